// A real OpenID Connect provider (the npm package oidc-provider) for the single sign-on
// tests (tests/clb/auth/test_sso.py). Test use only: it keeps everything in memory and
// logs in whoever the authorization request names, without a password.
//
// Configuration comes as JSON in the environment variable OIDC_TEST_CONFIG:
//   { "port": 43123,
//     "issuer": "http://127.0.0.1:43123",
//     "clients": [ { "client_id": ..., "client_secret": ..., "redirect_uris": [...] } ],
//     "accounts": { "<sub>": { "email": ..., "email_verified": true } },
//     "claimsInIdToken": false }
// With claimsInIdToken the ID token itself carries `email` and `email_verified`; without
// it (the library's default) they come from the UserInfo endpoint.
//
// Logging in: the authorization request's `login_hint` names the account (its sub); the
// interaction route below logs that account in and grants the consent the client asked
// for, with no page in between. An unknown `login_hint` ends in `access_denied`.
//
// A discovery request whose Host differs from the issuer's is answered with the issuer
// rewritten to that host, as a reverse proxy that reflects the Host header would do: a
// provider whose discovery document names one issuer and whose tokens carry another.

import { randomBytes, generateKeyPairSync } from "node:crypto";
import http from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? "{}");
const issuerHost = new URL(config.issuer).host;
const DISCOVERY = "/.well-known/openid-configuration";
const INTERACTION = /^\/interaction\/([\w-]+)$/;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-key", use: "sig", alg: "RS256" };

async function findAccount(_ctx, sub) {
  const account = config.accounts[sub];
  if (!account) {
    return undefined;
  }
  return { accountId: sub, claims: async () => ({ sub, ...account }) };
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  scopes: ["openid", "email"],
  findAccount,
  conformIdTokenClaims: !config.claimsInIdToken,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

async function grantConsent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) {
    grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
  }
  if (prompt.details.missingOIDCClaims) {
    grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  }
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  return { consent: { grantId: await grant.save() } };
}

async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === "login") {
    const accountId = String(details.params.login_hint ?? "");
    const result = config.accounts[accountId]
      ? { login: { accountId } }
      : { error: "access_denied", error_description: "unknown test account" };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  await provider.interactionFinished(req, res, await grantConsent(details));
}

async function reflectedDiscovery(req, res) {
  const found = await fetch(config.issuer + DISCOVERY);
  const document = await found.json();
  document.issuer = `http://${req.headers.host}`;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(document));
}

const handle = provider.callback();

const server = http.createServer((req, res) => {
  const path = new URL(req.url, config.issuer).pathname;
  let answer = null;
  if (INTERACTION.test(path) && req.method === "GET") {
    answer = interact(req, res);
  } else if (path === DISCOVERY && req.headers.host !== issuerHost) {
    answer = reflectedDiscovery(req, res);
  }
  if (answer === null) {
    handle(req, res);
    return;
  }
  answer.catch((error) => {
    console.error("test provider:", error);
    res.writeHead(500, { "content-type": "text/plain" });
    res.end("test provider error");
  });
});

server.listen(config.port, "127.0.0.1");

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
