// tokenhub/express: the five stages as Express handlers, expressRoutes() and expressAdminRoutes(); Express 4 and 5.
export { engineOf, hubState, type HubLike } from './context.js';
export { asyncHandler, authKey, errorHandler, forwardToProvider, recordUsage, resolveStrategy, sendJson, spendCap, type ExpressAuthOptions } from './stages.js';
export { expressRoutes, type ExpressRoutesOptions } from './routes.js';
export { adminAuth, expressAdminRoutes, type ExpressAdminRoutesOptions } from './admin.js';
