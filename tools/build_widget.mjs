#!/usr/bin/env node
/* Assemble bot/web/widget.js: inline the shared call code (bot/web/console/call-core.js, an
 * ES module the console imports) between the widget's `BEGIN call-core` and `END call-core`
 * marker comments, its `export` keywords removed. The widget stays one classic script for
 * its single <script> tag on customers' sites; the built file is committed, and
 * tests/js/widget_build.test.mjs fails when it is not what this script produces.
 *
 *   node tools/build_widget.mjs          rewrite bot/web/widget.js
 *   node tools/build_widget.mjs --check  exit 1 if bot/web/widget.js is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WIDGET = join(ROOT, 'bot', 'web', 'widget.js');
export const CALL_CORE = join(ROOT, 'bot', 'web', 'console', 'call-core.js');
const BEGIN = /^( *)\/\* BEGIN call-core \*\/$/m;
const END = /^ *\/\* END call-core \*\/$/m;

/** The module as classic-script statements: `export` dropped, indented to the marker's depth. */
export const classicBody = (moduleText, indent) => {
  if (/^\s*(import|export\s+default|export\s*\{)/m.test(moduleText)) {
    throw new Error('call-core.js: only `export const` declarations can be inlined (no imports, no export lists)');
  }
  return moduleText.trimEnd().split('\n')
    .map((line) => line.replace(/^export (?=const |let |function |class |async function )/, ''))
    .map((line) => (line ? indent + line : line))
    .join('\n');
};

/** The widget's text with the region between its markers replaced by the shared module. */
export const buildWidget = (widgetText, moduleText) => {
  const begin = BEGIN.exec(widgetText);
  const end = END.exec(widgetText);
  if (!begin || !end || end.index < begin.index) {
    throw new Error('widget.js: the BEGIN call-core / END call-core marker comments are missing');
  }
  const head = widgetText.slice(0, begin.index + begin[0].length);
  const tail = widgetText.slice(end.index);
  return `${head}\n${classicBody(moduleText, begin[1])}\n${tail}`;
};

const main = (args) => {
  const built = buildWidget(readFileSync(WIDGET, 'utf8'), readFileSync(CALL_CORE, 'utf8'));
  if (args.includes('--check')) {
    if (built !== readFileSync(WIDGET, 'utf8')) {
      console.error('bot/web/widget.js is out of date: run `node tools/build_widget.mjs`');
      process.exit(1);
    }
    return;
  }
  writeFileSync(WIDGET, built);
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
