// Imported first by the `skiff` command, before any other module runs. V8's default heap sizing
// grows the heap with the rate of short-lived garbage: following a job that prints a million
// lines, the live heap stays at ~25 MB but the process swelled to ~190 MB (bench/logs.mjs). With
// V8's size-first heuristics it stays within ~10 MB of a 10k-line follow, at the same speed. A
// library user (the VS Code extension host) keeps its own host's settings: this is the CLI's choice.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
