// Regenerates vectors.json with js-ipfs-unixfs (an implementation independent of Legato's Python code),
// configured like Kubo's `ipfs add --cid-version=1`. Not run by the tests; see docs/ipfs.md.
//   mkdir /tmp/ipfsjs && cd /tmp/ipfsjs && npm init -y && npm install ipfs-unixfs-importer blockstore-core
//   NODE_PATH=/tmp/ipfsjs/node_modules node gen_vectors.mjs > vectors.json   (run from this directory)
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import path from 'node:path'

const require = createRequire(path.join(process.env.NODE_PATH ?? '/tmp/ipfsjs/node_modules', 'x.js'))
const load = async (name) => import(require.resolve(name))
const { importer } = await load('ipfs-unixfs-importer')
const { fixedSize } = await load('ipfs-unixfs-importer/chunker')
const { balanced } = await load('ipfs-unixfs-importer/layout')
const { MemoryBlockstore } = await load('blockstore-core/memory')

// The same recipes are rebuilt byte for byte by hardhat-free-tests/registry/test_ipfs_cid.py.
function make (recipe) {
  const [kind, arg] = recipe.split(':', 2)
  if (kind === 'empty') return new Uint8Array(0)
  if (kind === 'text') return new TextEncoder().encode(JSON.parse(arg))
  if (kind === 'file') return new Uint8Array(readFileSync(arg))
  const n = Number(arg)
  const out = new Uint8Array(n)
  if (kind === 'pattern') for (let i = 0; i < n; i++) out[i] = i % 251
  return out // zeros
}

const C = 262144
const recipes = [
  'empty', 'text:"hello world\\n"', 'text:"a"', 'pattern:262143', `pattern:${C}`, `pattern:${C + 1}`,
  `pattern:${2 * C}`, 'pattern:1000000', 'pattern:1048576', `zeros:${3 * C + 5}`,
  `pattern:${174 * C}`, `pattern:${174 * C + 1}`, `pattern:${175 * C + 7}`, 'file:certificate.json'
]
const withRootBlock = new Set([`pattern:${C + 1}`, 'pattern:1048576', `zeros:${3 * C + 5}`, `pattern:${174 * C + 1}`])

const out = []
for (const recipe of recipes) {
  const data = make(recipe)
  const bs = new MemoryBlockstore()
  let last
  for await (const entry of importer([{ content: data }], bs, {
    cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true, wrapWithDirectory: false,
    chunker: fixedSize({ chunkSize: C }), layout: balanced({ maxChildrenPerNode: 174 }), fieldOrder: 'links-first'
  })) last = entry
  let blocks = 0
  for await (const _ of bs.getAll()) blocks++
  const row = { recipe, size: data.length, cid: last.cid.toString(), blocks }
  if (withRootBlock.has(recipe)) {
    const chunks = []
    for await (const c of bs.get(last.cid)) chunks.push(c)
    row.root_block_hex = Buffer.concat(chunks).toString('hex')
  }
  out.push(row)
}
console.log(JSON.stringify({
  generator: 'ipfs-unixfs-importer@17.1.1 + blockstore-core@7.0.1, node ' + process.version,
  options: 'cidVersion 1, rawLeaves, fixed 262144, balanced 174, reduceSingleLeafToSelf',
  vectors: out
}, null, 1))
