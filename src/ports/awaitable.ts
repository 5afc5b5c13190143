// A value a port method may return directly (memory, SQLite) or as a promise (Redis, PostgreSQL).
export type Awaitable<T> = T | Promise<T>;
