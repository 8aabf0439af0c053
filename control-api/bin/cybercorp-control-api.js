#!/usr/bin/env node
// Committed launcher so npm can link the bin at install time, before the first build.
import '../dist/bin.js';
