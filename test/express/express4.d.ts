// Types for the `express4` npm alias (Express 4 installed beside Express 5 for the binding tests): the same API surface.
declare module 'express4' {
  export * from 'express';
  export { default } from 'express';
}
