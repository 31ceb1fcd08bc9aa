// Plain JavaScript on purpose: it must run on any Node to tell the user which one they need.

/** Why this Node cannot run credit-sentinel, or undefined when it can (22.12 or newer). */
export function nodeVersionProblem(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return undefined;
  return (
    `credit-sentinel needs Node.js 22.12 or newer (AWS Lambda runs nodejs22.x/24.x); this is v${version.replace(/^v/, '')}.\n` +
    'Get Node 22 without root from the npm registry:\n' +
    '  npm i --prefix ~/.local/node22 node@22 && export PATH=~/.local/node22/node_modules/.bin:$PATH\n' +
    'or with nvm: nvm install 22 && nvm use 22 (this repository has an .nvmrc).\n'
  );
}
