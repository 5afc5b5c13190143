// The Koa binding: the five stages, routes() and adminRoutes().
export { hubState, type HubKoaState, type HubMiddleware } from './context.js';
export { authKey, errorHandler, forwardToProvider, recordUsage, resolveStrategy, spendCap, type AuthKeyOptions } from './stages.js';
export { routes, type RoutesOptions } from './routes.js';
export { adminAuth, adminRoutes, type AdminRoutesOptions } from './admin.js';
