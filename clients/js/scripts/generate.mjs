// Renders the dropPIN client into src/generated from the program's IDL (idl/droppin.json, which
// the Rust interface generates), with Codama's own JavaScript renderer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderVisitor } from '@codama/renderers-js';
import { visit } from '@codama/visitors-core';

// The Rust generator leaves empty lists out of the IDL; the node library this renderer is
// built against expects them, so they are put back, node kind by node kind.
const LISTS = {
    rootNode: ['additionalPrograms'],
    programNode: ['accounts', 'instructions', 'definedTypes', 'pdas', 'events', 'errors', 'constants'],
    instructionNode: ['accounts', 'arguments'],
    structTypeNode: ['fields'],
    enumTypeNode: ['variants'],
    tupleTypeNode: ['items'],
    pdaNode: ['seeds'],
    pdaValueNode: ['seeds'],
    structValueNode: ['fields'],
    tupleValueNode: ['items'],
    arrayValueNode: ['items'],
    setValueNode: ['items'],
    mapValueNode: ['entries'],
};

function withLists(node) {
    if (Array.isArray(node)) return node.map(withLists);
    if (node === null || typeof node !== 'object') return node;
    const filled = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withLists(value)]));
    for (const key of LISTS[node.kind] ?? []) filled[key] ??= [];
    return filled;
}

const packageFolder = fileURLToPath(new URL('..', import.meta.url));
const idl = JSON.parse(readFileSync(new URL('../../../idl/droppin.json', import.meta.url), 'utf8'));
await visit(withLists(idl), renderVisitor(packageFolder, { syncPackageJson: false }));
