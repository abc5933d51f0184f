import { render } from 'preact';
import { config } from 'zod';
import { App } from './app.js';
import { boot } from './state/session.js';

// The CSP has no 'unsafe-eval': keep zod from trying its compiled fast path.
config({ jitless: true });

render(<App />, document.getElementById('app') as HTMLElement);
void boot();
