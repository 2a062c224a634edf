/**
 * The web workbench without a usable token: where one comes from, instead of a bare refusal.
 * Shown before any API call is made, so a page opened without the token sends nothing.
 */
export function TokenPage({ refused }: { refused: boolean }) {
  return (
    <main className="token-page" data-testid="token-page">
      <h1>Stage-B Workbench: this page needs the workbench's token</h1>
      <p>
        {refused
          ? 'The workbench server refused the token this browser kept: it was restarted since, and each start makes a new token.'
          : 'The workbench server answers only requests that carry its per-launch token, and this page has none.'}
      </p>
      <p>The token comes from the URL the server printed when it started, in the terminal that ran</p>
      <pre>npm run workbench:web -- --runs runs</pre>
      <p>It prints one line like this; open that URL (with its <code>#token=…</code>) in this browser:</p>
      <pre>Stage-B workbench: http://127.0.0.1:4100/#token=…</pre>
      <p className="muted">
        After that, links to the workbench&apos;s screens, runs, groups, decisions and snapshots open in this browser without the token in them, until the server stops.
        The desktop app (<code>npm run workbench</code>) needs no token.
      </p>
    </main>
  );
}
