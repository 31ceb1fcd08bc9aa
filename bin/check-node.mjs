#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on any Node to tell the user which one they need.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `credit-sentinel needs Node.js 22.12 or newer (AWS Lambda runs nodejs22.x/24.x); this is ${process.version}.\n` +
      'Get Node 22 without root from the npm registry:\n' +
      '  npm i --prefix ~/.local/node22 node@22 && export PATH=~/.local/node22/node_modules/.bin:$PATH\n' +
      'or with nvm: nvm install 22 && nvm use 22 (this repository has an .nvmrc).\n',
  );
  process.exit(1);
}
