// The committed widget.js is what tools/build_widget.mjs builds from the shared call code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { CALL_CORE, WIDGET, buildWidget, classicBody } from '../../tools/build_widget.mjs';

test('bot/web/widget.js is up to date: run `node tools/build_widget.mjs` after editing call-core.js', () => {
  const committed = readFileSync(WIDGET, 'utf8');
  assert.equal(buildWidget(committed, readFileSync(CALL_CORE, 'utf8')), committed);
});

test('the inlined code is the module without its exports', () => {
  assert.equal(classicBody('export const a = 1;\n\nexport const f = () => a;\n', '  '),
    '  const a = 1;\n\n  const f = () => a;');
});

test('the build refuses a module it cannot inline', () => {
  assert.throws(() => classicBody("import { x } from './x.js';\n", ''), /only `export const`/);
  assert.throws(() => buildWidget('no markers here', 'export const a = 1;'), /marker comments/);
});

test('the build replaces what is between the markers, and only that', () => {
  const widget = 'before\n  /* BEGIN call-core */\n  old\n  /* END call-core */\nafter\n';
  assert.equal(buildWidget(widget, 'export const a = 1;\n'),
    'before\n  /* BEGIN call-core */\n  const a = 1;\n  /* END call-core */\nafter\n');
});

test('the built widget is a classic script (it parses outside a module)', () => {
  assert.doesNotThrow(() => new Function(readFileSync(WIDGET, 'utf8')));
});
