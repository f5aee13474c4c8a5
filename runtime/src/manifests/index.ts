// Pure builders for every Kubernetes object Skiff creates (collect.ts alone reads files).
export * from './labels.js';
export * from './code-bundle.js';
export * from './collect.js';
export * from './gpu.js';
export * from './training.js';
export * from './serving.js';
export * from './kind-config.js';
export * from './env-secret.js';
