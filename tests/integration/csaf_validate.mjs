// csaf_validate.mjs LIBDIR FILE... - validates CSAF 2.0 documents with the BSI/secvisogram
// validator library (strict mode): the strict schema and every mandatory test 6.1.x.  Prints one
// line per failing document with the failing tests and exits 1 when any fails.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const [libdir, ...files] = process.argv.slice(2)
const validateStrict = (await import(join(libdir, 'validateStrict.js'))).default
const schema = await import(join(libdir, 'schemaTests.js'))
const mandatory = await import(join(libdir, 'mandatoryTests.js'))
const tests = [schema.csaf_2_0_strict, ...Object.values(mandatory)]
let bad = 0
for (const f of files) {
  const doc = JSON.parse(readFileSync(f, 'utf8'))
  const r = await validateStrict(tests, doc)
  const failed = r.tests.filter((t) => !t.isValid || t.errors.length)
  if (!r.isValid || failed.length) {
    bad++
    console.log(`${f}: INVALID ` + JSON.stringify(failed.map((t) => ({ name: t.name, errors: t.errors.slice(0, 3) }))))
  } else {
    console.log(`${f}: valid (${r.tests.length} tests)`)
  }
}
process.exit(bad ? 1 : 0)
