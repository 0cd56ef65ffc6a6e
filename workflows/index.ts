/** Workflow entry points registered by the worker (`workflowsPath` points here). */
export { monitorWorkflow } from './monitor.js';
export { rebalanceWorkflow } from './rebalance.js';
export { capacityMoveWorkflow } from './capacity.js';
