export * from './framing.js';
export * from './opamp.js';
export * from './control.js';
export * from './errors.js';
export * from './rest/index.js';
