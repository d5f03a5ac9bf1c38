/**
 * PGlite loads Node built-ins with `import("fs")` and the like, which jest only runs under
 * --experimental-vm-modules. In tests its CommonJS build gets them through `require` instead (kept
 * in a name of its own: the bundle declares a `require` of its own, hoisted over the module's);
 * outside jest (tsx, node) it runs as published.
 */
const KEEP = 'var __jestRequire = require;';

module.exports = {
  process(source) {
    const code = source.replace(/\bimport\(("(?:node:)?[a-z/]+")\)/g, 'Promise.resolve(__jestRequire($1))');
    const strict = /^(["'])use strict\1;/.exec(code);
    return { code: strict ? strict[0] + KEEP + code.slice(strict[0].length) : KEEP + code };
  },
  getCacheKey(source, path) {
    return require('node:crypto').createHash('sha256').update('pglite-transform-2\0').update(path).update(source).digest('hex');
  },
};
