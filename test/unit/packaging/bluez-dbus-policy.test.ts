import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BLE_SOURCES = join(ROOT, 'main/sensors/ble');
const POLICY = join(ROOT, 'native-config/fieldgate-bluez.conf');
const BLUEZ_NAME = 'org.bluez';

interface Rule {
  allow: boolean;
  attributes: Record<string, string>;
}

/** The policy's rules for the fieldgate user, read by a real XML parser (Python's ElementTree). */
function policyRules(): Rule[] {
  const script = `import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(json.dumps([{"allow": r.tag == "allow", "attributes": r.attrib} for p in root.iter("policy") if p.get("user") == "fieldgate" for r in p]))`;
  const result = spawnSync('/usr/bin/python3', ['-c', script, POLICY], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Rule[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/**
 * Every `interface.member` the BLE code calls on org.bluez, read from the source: object literals
 * with `destination: BLUEZ`, whose `member` is a string, or a parameter of a helper method whose
 * callers pass strings (the scanner's `adapterCall(connection, path, 'StartDiscovery')`).
 */
function bluezCallsInSource(): Set<string> {
  const files = sourceFiles(BLE_SOURCES).map((file) => ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true));
  const constants = new Map<string, string>();
  const helperCalls: { name: string; index: number; iface: string }[] = [];
  const calls = new Set<string>();
  const stringCalls: ts.CallExpression[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isStringLiteral(node.initializer)) {
      constants.set(node.name.text, node.initializer.text);
    }
    if (ts.isCallExpression(node)) stringCalls.push(node);
    ts.forEachChild(node, visit);
  };
  files.forEach(visit);
  const valueOf = (expression: ts.Expression | undefined) =>
    expression === undefined ? undefined : ts.isStringLiteral(expression) ? expression.text : ts.isIdentifier(expression) ? constants.get(expression.text) : undefined;
  const findCalls = (node: ts.Node) => {
    if (ts.isObjectLiteralExpression(node)) {
      const property = (name: string) =>
        node.properties.find((p): p is ts.PropertyAssignment | ts.ShorthandPropertyAssignment => (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && p.name.getText() === name);
      const initializer = (name: string) => {
        const p = property(name);
        return p === undefined ? undefined : ts.isPropertyAssignment(p) ? p.initializer : p.name;
      };
      if (valueOf(initializer('destination')) === BLUEZ_NAME) {
        const iface = valueOf(initializer('interface'));
        const member = initializer('member');
        assert.ok(iface && member, `a call to org.bluez without a readable interface or member: ${node.getText()}`);
        const literal = valueOf(member);
        if (literal !== undefined) calls.add(`${iface}.${literal}`);
        else {
          let fn: ts.Node | undefined = node.parent;
          while (fn && !ts.isMethodDeclaration(fn) && !ts.isFunctionDeclaration(fn)) fn = fn.parent;
          assert.ok(fn && fn.name, `member ${member.getText()} is neither a string nor a helper's parameter`);
          const index = fn.parameters.findIndex((p) => p.name.getText() === member.getText());
          assert.ok(index >= 0, `member ${member.getText()} is not a parameter of ${fn.name.getText()}`);
          helperCalls.push({ name: fn.name.getText(), index, iface });
        }
      }
    }
    ts.forEachChild(node, findCalls);
  };
  files.forEach(findCalls);
  for (const helper of helperCalls) {
    for (const call of stringCalls) {
      const callee = call.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : undefined;
      if (name !== helper.name) continue;
      const member = valueOf(call.arguments[helper.index]);
      assert.ok(member, `${helper.name} called with a member that is not a string: ${call.getText()}`);
      calls.add(`${helper.iface}.${member}`);
    }
  }
  return calls;
}

test("the source analysis finds the scanner's BlueZ calls (it is not vacuous)", () => {
  const calls = bluezCallsInSource();
  for (const expected of ['org.freedesktop.DBus.ObjectManager.GetManagedObjects', 'org.bluez.Adapter1.StartDiscovery']) assert.ok(calls.has(expected), `${expected} not found in ${[...calls].join(', ')}`);
});

test('the D-Bus policy allows exactly the BlueZ methods the code calls, each by interface and member', () => {
  const rules = policyRules();
  for (const rule of rules) {
    assert.ok(rule.allow, `the fieldgate policy only allows (the system bus denies method calls by default): ${JSON.stringify(rule)}`);
    assert.deepEqual(Object.keys(rule.attributes).sort(), ['send_destination', 'send_interface', 'send_member'], `rule must name destination, interface and member: ${JSON.stringify(rule)}`);
    assert.equal(rule.attributes.send_destination, BLUEZ_NAME);
  }
  const allowed = rules.map((rule) => `${rule.attributes.send_interface}.${rule.attributes.send_member}`).sort();
  assert.deepEqual(allowed, [...bluezCallsInSource()].sort());
});
