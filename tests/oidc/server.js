// A real OpenID Connect provider (npm oidc-provider) for Maillage's sign-in tests.
//
//   node server.js --port 0 --profile generic|proconnect --rp http://127.0.0.1:5000 --name keycloak
//
// Profiles:
// - generic: issuer at the root, RS256 ID tokens, client_secret_basic, PKCE required, JSON
//   userinfo (a Keycloak-like provider);
// - proconnect: issuer under /api/v2, ES256 ID tokens, userinfo as a signed JWT,
//   client_secret_post, the `claims` parameter with acr values eidas1..3, ProConnect's scopes.
//
// Both use a minimal login form (/interaction/<uid>): a login name picks one of the accounts
// below, whose claims (siret, idp_id, acr…) the tests rely on; the form shows the `login_hint`
// (pre-filled) and ProConnect's `idp_hint`.  Accounts whose `quirk` is set get a tampered ID
// token from the token endpoint (wrong audience, bad signature, alg none, an old auth_time…) or a
// tampered userinfo JWT (wrong sub, iss, aud), so the relying party's checks are proved against
// real responses.
//
// Like ProConnect, the proconnect profile compares an essential `acr` exactly (the values of the
// `claims` parameter, or of `acr_values` when both are sent) and refuses a sign-in that matches
// none: "None of the requested ACRs could be obtained." (except for accounts whose quirk is
// `lenient-acr`: an identity provider that answers whatever was asked, so that the relying
// party's own check of the level is proved).
//
// Back-channel logout (OIDC Back-Channel Logout 1.0) is on: the client's backchannel_logout_uri
// is the relying party's /logout/oidc/<name>/backchannel, ID tokens carry `sid`, and ending the
// session here (end_session) posts a logout token there.  POST /test/logout-token (JSON: claims
// to set, `drop`: claims to leave out, `tamper: "signature"`) answers a logout token signed with
// this provider's key, for the checks a real provider never fails.
//
// Prints one line `READY <issuer>` on stdout once listening; stops on SIGTERM.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    profile: { type: 'string', default: 'generic' },
    rp: { type: 'string', default: 'http://127.0.0.1:5000' },
    name: { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'maillage' },
    'client-secret': { type: 'string', default: 'maillage-test-secret-0123456789-abcdefghijklmnop' },
  },
});

const PROCONNECT = args.profile === 'proconnect';
const MOUNT = PROCONNECT ? '/api/v2' : '';
const CLIENT_ID = args['client-id'];
const CLIENT_SECRET = args['client-secret'];

// -- accounts --------------------------------------------------------------------------------

const GENERIC_ACCOUNTS = {
  alice: {
    given_name: 'Alice', family_name: 'Martin', preferred_username: 'amartin',
    email: 'alice.martin@exemple.gouv.fr', email_verified: true,
    siret: '13002526500013', organisation_name: 'Direction interministérielle du numérique',
  },
  joel: {
    given_name: 'Joël', family_name: 'Bénard-Ørsted', preferred_username: 'joel.benard',
    email: 'joel.benard@ville-exemple.fr', email_verified: false,
    siret: '21690123100011', organisation_name: 'Ville d’Exemple-sur-Saône',
  },
  'mallory-audience': { quirk: 'wrong-audience' },
  'mallory-signature': { quirk: 'bad-signature' },
  'mallory-issuer': { quirk: 'wrong-issuer' },
  'mallory-expired': { quirk: 'expired' },
  'mallory-nonce': { quirk: 'wrong-nonce' },
  'mallory-none': { quirk: 'alg-none' },
  'mallory-hs256': { quirk: 'hs256' },
  'mallory-stale': { quirk: 'stale-auth-time' },
  bruno: {
    given_name: 'Bruno', family_name: 'Fort', email: 'bruno.fort@exemple.gouv.fr',
    email_verified: true, acr: 'loa-3',
  },
};

const PROCONNECT_ACCOUNTS = {
  agent: {
    given_name: 'Éloïse', usual_name: 'Lefèvre-Côté', email: 'eloise.lefevre@interieur.gouv.fr',
    uid: 'elefevre', siret: '11000201100044', idp_id: 'fia1-interieur', acr: 'eidas1',
    organizational_unit: 'Direction du numérique', belonging_population: 'agent',
  },
  collectivite: {
    given_name: 'Jean-Noël', usual_name: 'Durand', email: 'jn.durand@mairie-exemple.fr',
    uid: '4242', siret: '21750001600019', idp_id: 'proconnect-identite', acr: 'eidas1',
    organizational_unit: 'Service des systèmes d’information',
  },
  prestataire: {
    given_name: 'Zoé', usual_name: 'Œuvray', email: 'zoe.oeuvray@prestataire-conseil.fr',
    uid: 'zo', siret: '55208131766522', idp_id: 'proconnect-identite', acr: 'eidas1',
    belonging_population: 'prestataire',
  },
  'agent-eidas2': {
    given_name: 'Gaëlle', usual_name: 'Forte', email: 'gaelle.forte@interieur.gouv.fr',
    uid: 'gforte', siret: '11000201100044', idp_id: 'fia1-interieur', acr: 'eidas2',
  },
  'agent-eidas3': {
    given_name: 'Carte', usual_name: 'Agent', uid: 'cagent', siret: '11000201100044',
    idp_id: 'fia1-interieur', acr: 'eidas3',
  },
  'agent-mfa': {
    given_name: 'Totp', usual_name: 'Agent', uid: 'tagent', siret: '11000201100044',
    idp_id: 'fia1-interieur', acr: 'eidas1-mfa',
  },
  'agent-eidas0': {
    given_name: 'Faible', usual_name: 'Agent', uid: 'fagent', siret: '11000201100044',
    idp_id: 'proconnect-identite', acr: 'eidas0', quirk: 'lenient-acr',
  },
  'agent-inconnu': {
    given_name: 'Inconnu', usual_name: 'Agent', uid: 'iagent', siret: '11000201100044',
    idp_id: 'fia1-interieur', acr: 'niveau-inconnu', quirk: 'lenient-acr',
  },
  'mallory-audience': { quirk: 'wrong-audience', siret: '11000201100044', idp_id: 'fia1', acr: 'eidas1' },
  'mallory-signature': { quirk: 'bad-signature', siret: '11000201100044', idp_id: 'fia1', acr: 'eidas1' },
  'mallory-userinfo-sub': { quirk: 'userinfo-sub', siret: '11000201100044', idp_id: 'fia1', acr: 'eidas1' },
  'mallory-userinfo-iss': { quirk: 'userinfo-iss', siret: '11000201100044', idp_id: 'fia1', acr: 'eidas1' },
  'mallory-userinfo-aud': { quirk: 'userinfo-aud', siret: '11000201100044', idp_id: 'fia1', acr: 'eidas1' },
  'mallory-userinfo-no-iss': { quirk: 'userinfo-no-iss', siret: '11000201100044', idp_id: 'fia1', acr: 'eidas1' },
};

// A test that needs other claims (no email_verified, a groups claim…) starts a provider of its
// own with more accounts: OIDC_TEST_ACCOUNTS, a JSON object login -> claims, added to these.
const ACCOUNTS = {
  ...(PROCONNECT ? PROCONNECT_ACCOUNTS : GENERIC_ACCOUNTS),
  ...JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}'),
};
for (const [login, account] of Object.entries(ACCOUNTS)) {
  account.sub = `sub-${login}`;
  account.email ??= `${login}@exemple.gouv.fr`;
  account.given_name ??= 'Mallory';
  account.family_name ??= account.usual_name ?? 'Test';
  account.usual_name ??= account.family_name;
}
const BY_SUB = Object.fromEntries(Object.values(ACCOUNTS).map((a) => [a.sub, a]));

const GENERIC_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['given_name', 'family_name', 'preferred_username', 'name'],
  organisation: ['siret', 'organisation_name'],
  groups: ['groups'],
};

const PROCONNECT_CLAIMS = {
  openid: ['sub'],
  given_name: ['given_name'],
  usual_name: ['usual_name'],
  email: ['email'],
  uid: ['uid'],
  siret: ['siret'],
  idp_id: ['idp_id'],
  organizational_unit: ['organizational_unit'],
  belonging_population: ['belonging_population'],
};

async function findAccount(ctx, sub) {
  const account = BY_SUB[sub];
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      const { quirk, acr, ...claims } = account;
      return { ...claims, name: `${account.given_name} ${account.family_name}` };
    },
  };
}

// -- keys --------------------------------------------------------------------------------------

function signingKey(kind) {
  const pair = kind === 'RSA'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.privateKey.export({ format: 'jwk' });
  const alg = kind === 'RSA' ? 'RS256' : 'ES256';
  return { jwk: { ...jwk, kid: `${alg.toLowerCase()}-${crypto.randomUUID()}`, alg, use: 'sig' }, pair };
}

const KEYS = [signingKey('RSA'), signingKey('EC')];

// -- tampered ID tokens ------------------------------------------------------------------------

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const unb64 = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

function sign(header, payload) {
  const input = `${b64(header)}.${b64(payload)}`;
  if (header.alg === 'none') return `${input}.`;
  if (header.alg === 'HS256') {
    return `${input}.${crypto.createHmac('sha256', CLIENT_SECRET).update(input).digest('base64url')}`;
  }
  const { pair } = KEYS.find((key) => key.jwk.kid === header.kid);
  const options = header.alg === 'ES256' ? { key: pair.privateKey, dsaEncoding: 'ieee-p1363' } : pair.privateKey;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), options).toString('base64url')}`;
}

function tamper(idToken) {
  const [h, p, s] = idToken.split('.');
  const header = unb64(h);
  const payload = unb64(p);
  const now = Math.floor(Date.now() / 1000);
  switch (BY_SUB[payload.sub]?.quirk) {
    case 'wrong-audience': return sign(header, { ...payload, aud: 'another-client' });
    case 'wrong-issuer': return sign(header, { ...payload, iss: 'http://127.0.0.1:1/elsewhere' });
    case 'expired': return sign(header, { ...payload, iat: now - 7200, exp: now - 3600 });
    case 'wrong-nonce': return sign(header, { ...payload, nonce: 'n'.repeat(43) });
    case 'alg-none': return sign({ alg: 'none' }, payload);
    case 'hs256': return sign({ alg: 'HS256', typ: 'JWT' }, payload);
    case 'bad-signature': return `${h}.${b64({ ...payload, sub: 'sub-alice' })}.${s}`;
    case 'stale-auth-time': return sign(header, { ...payload, auth_time: now - 3600 });
    default: return idToken;
  }
}

/** The userinfo JWT of an account whose quirk is about userinfo, re-signed after the change. */
function tamperUserinfo(token) {
  const [h, p] = token.split('.');
  const header = unb64(h);
  const payload = unb64(p);
  switch (BY_SUB[payload.sub]?.quirk) {
    case 'userinfo-sub': return sign(header, { ...payload, sub: 'sub-agent' });
    case 'userinfo-iss': return sign(header, { ...payload, iss: 'http://127.0.0.1:1/elsewhere' });
    case 'userinfo-aud': return sign(header, { ...payload, aud: 'another-client' });
    case 'userinfo-no-iss': {
      const { iss, ...rest } = payload;
      return sign(header, rest);
    }
    default: return token;
  }
}

function tamperUserinfoResponse(res) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    const type = String(res.getHeader('Content-Type') || '');
    if (res.statusCode === 200 && chunk && type.startsWith('application/jwt')) {
      const text = tamperUserinfo(chunk.toString());
      res.setHeader('Content-Length', Buffer.byteLength(text));
      return end(text, ...rest);
    }
    return end(chunk, ...rest);
  };
}

// -- logout tokens made to order (POST /test/logout-token) -------------------------------------

async function logoutToken(req, res, issuer) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const order = JSON.parse(Buffer.concat(chunks).toString() || '{}');
  const now = Math.floor(Date.now() / 1000);
  const key = KEYS.find((one) => one.jwk.alg === (PROCONNECT ? 'ES256' : 'RS256'));
  const payload = {
    iss: issuer,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: crypto.randomUUID(),
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    ...(order.claims || {}),
  };
  for (const name of order.drop || []) delete payload[name];
  let token = sign({ alg: key.jwk.alg, kid: key.jwk.kid, typ: 'logout+jwt' }, payload);
  if (order.tamper === 'signature') {
    const [h, , s] = token.split('.');
    token = `${h}.${b64({ ...payload, sub: 'sub-someone-else' })}.${s}`;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ logout_token: token }));
}

/** Rewrite the ID token of the token endpoint's JSON response before it leaves. */
function tamperTokenResponse(res) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    if (res.statusCode === 200 && chunk) {
      const body = JSON.parse(chunk.toString());
      if (body.id_token) {
        body.id_token = tamper(body.id_token);
        const text = JSON.stringify(body);
        res.setHeader('Content-Length', Buffer.byteLength(text));
        return end(text, ...rest);
      }
    }
    return end(chunk, ...rest);
  };
}

// -- provider ----------------------------------------------------------------------------------

function policy() {
  const prompts = interactionPolicy.base();
  if (PROCONNECT) {
    // ProConnect issues the ID token with the level reached and lets the relying party decide;
    // without this, oidc-provider would ask for the login again and again.
    prompts.get('login').checks.remove('essential_acrs');
    prompts.get('login').checks.remove('essential_acr');
  }
  return prompts;
}

function configuration() {
  const names = args.name.length ? args.name : [PROCONNECT ? 'proconnect' : 'generic'];
  return {
    extraParams: PROCONNECT ? ['idp_hint'] : [],
    // The relying party under test listens on loopback, which oidc-provider's outgoing requests
    // (back-channel logout) refuse by default as a server-side request forgery guard.
    fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      client_name: 'Maillage',
      redirect_uris: names.map((name) => `${args.rp}/login/oidc/${name}/callback`),
      post_logout_redirect_uris: names.map((name) => `${args.rp}/logout/oidc/${name}/callback`),
      backchannel_logout_uri: `${args.rp}/logout/oidc/${names[0]}/backchannel`,
      backchannel_logout_session_required: true,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: PROCONNECT ? 'client_secret_post' : 'client_secret_basic',
      id_token_signed_response_alg: PROCONNECT ? 'ES256' : 'RS256',
      ...(PROCONNECT ? { userinfo_signed_response_alg: 'ES256' } : {}),
    }],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    jwks: { keys: KEYS.map((key) => key.jwk) },
    cookies: {
      keys: [crypto.randomBytes(32).toString('hex')],
      // Both profiles run on 127.0.0.1, where cookies ignore the port: names keep them apart.
      names: {
        session: `_session_${args.profile}`,
        interaction: `_interaction_${args.profile}`,
        resume: `_interaction_resume_${args.profile}`,
      },
    },
    findAccount,
    claims: PROCONNECT ? PROCONNECT_CLAIMS : GENERIC_CLAIMS,
    scopes: Object.keys(PROCONNECT ? PROCONNECT_CLAIMS : GENERIC_CLAIMS),
    acrValues: PROCONNECT
      ? ['eidas0', 'eidas0-mfa', 'eidas1', 'eidas1-mfa', 'eidas2', 'eidas3', 'niveau-inconnu']
      : ['loa-1', 'loa-2', 'loa-3'],
    pkce: { required: () => !PROCONNECT },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: PROCONNECT },
      jwtUserinfo: { enabled: PROCONNECT },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
    },
    routes: PROCONNECT ? { authorization: '/authorize', userinfo: '/userinfo' } : {},
    interactions: {
      policy: policy(),
      url: (ctx, interaction) => `${MOUNT}/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: 60, AuthorizationCode: 30, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600,
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Erreur</title><h1>Erreur</h1><pre>${escape(JSON.stringify(out))}</pre>`;
    },
  };
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// -- interactions (the provider's own login form) ----------------------------------------------

function page(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Fournisseur de test</title></head><body>${body}</body></html>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function grantFor(provider, details, accountId) {
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  if (details.params.claims) {
    const requested = JSON.parse(details.params.claims);
    grant.addOIDCClaims(Object.values(requested).flatMap((claims) => Object.keys(claims ?? {})));
  }
  return grant.save();
}

async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, '<p>Interaction inconnue.</p>');
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'La personne a annulé la connexion.',
    }, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'consent') {
    // First-party client: consent is implied.
    const grantId = await grantFor(provider, details, details.session.accountId);
    return provider.interactionFinished(req, res, { consent: { grantId } });
  }
  if (req.method === 'POST' && action === 'login') {
    const login = (await readForm(req)).get('login') || '';
    const account = ACCOUNTS[login];
    if (!account) return page(res, 400, `<p>Compte inconnu : ${escape(login)}</p>${loginForm(uid, details.params)}`);
    const essential = PROCONNECT ? essentialAcrs(details.params) : [];
    if (essential.length && account.quirk !== 'lenient-acr' && !essential.includes(account.acr)) {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'None of the requested ACRs could be obtained.',
      }, { mergeWithLastSubmission: false });
    }
    const grantId = await grantFor(provider, details, account.sub);
    return provider.interactionFinished(req, res, {
      login: { accountId: account.sub, ...(account.acr ? { acr: account.acr } : {}), amr: ['pwd'] },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
  }
  return page(res, 200, loginForm(uid, details.params));
}

/** ProConnect's essential acr values: those of `claims`, replaced by `acr_values` when both are
 * sent (the federation's documented behaviour). */
function essentialAcrs(params) {
  const acr = params.claims ? JSON.parse(params.claims)?.id_token?.acr : undefined;
  if (!acr?.essential) return [];
  if (params.acr_values) return params.acr_values.split(' ');
  return acr.values ?? (acr.value ? [acr.value] : []);
}

function loginForm(uid, params = {}) {
  const hint = params.login_hint ? ` value="${escape(params.login_hint)}"` : '';
  const idp = params.idp_hint ? `<p>Fournisseur d’identité demandé : ${escape(params.idp_hint)}</p>` : '';
  return `<h1>Connexion au fournisseur d’identité de test</h1>${idp}
<form method="post" action="${MOUNT}/interaction/${uid}/login">
<label for="login">Identifiant</label> <input id="login" name="login" autocomplete="username"${hint}>
<button type="submit">Se connecter</button></form>
<form method="post" action="${MOUNT}/interaction/${uid}/abort"><button type="submit">Annuler</button></form>`;
}

// -- server ------------------------------------------------------------------------------------

function main() {
  const server = http.createServer();
  server.listen(Number(args.port), '127.0.0.1', () => {
    const issuer = `http://127.0.0.1:${server.address().port}${MOUNT}`;
    const provider = new Provider(issuer, configuration());
    provider.on('server_error', (ctx, error) => console.error('server_error', error));
    provider.on('backchannel.error', (ctx, error) => console.error('backchannel.error', error.message));
    const callback = provider.callback();
    const interactionRoute = new RegExp(`^${MOUNT}/interaction/([\\w-]+)(?:/(login|abort))?$`);

    server.on('request', async (req, res) => {
      try {
        const path = req.url.split('?')[0];
        const match = interactionRoute.exec(path);
        if (match) return await interaction(provider, req, res, match[1], match[2]);
        if (req.method === 'POST' && path === '/test/logout-token') return await logoutToken(req, res, issuer);
        if (!path.startsWith(`${MOUNT}/`) && path !== MOUNT) return page(res, 404, '<p>Introuvable</p>');
        if (req.method === 'POST' && path === `${MOUNT}/token`) tamperTokenResponse(res);
        if (path === `${MOUNT}/userinfo`) tamperUserinfoResponse(res);
        if (MOUNT) {
          req.originalUrl = req.url;
          req.url = req.url.slice(MOUNT.length) || '/';
        }
        return await callback(req, res);
      } catch (error) {
        console.error(error);
        if (!res.headersSent) page(res, 500, `<p>${escape(error.message)}</p>`);
        return undefined;
      }
    });
    process.stdout.write(`READY ${issuer}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}

main();
