export { EX_CONFIG, loadConfig, type RtaServiceConfig, SETTINGS } from './config.js';
export { main } from './main.js';
