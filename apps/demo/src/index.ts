export { type DemoHandle, type DemoOptions, startDemo, type VerificationSummary } from './demo.js';
export { type AgentView, type DashboardState, DemoTracker, statesAgree } from './tracker.js';
