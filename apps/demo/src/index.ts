export {
  type DeliveredFile,
  type DemoHandle,
  type DemoOptions,
  type SftpChoice,
  type StatisticsCheck,
  type StatisticsOutputs,
  startDemo,
  type VerificationSummary,
} from './demo.js';
export { type AgentView, type DashboardState, DemoTracker, statesAgree } from './tracker.js';
