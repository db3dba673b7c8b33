// A tiny OAuth 2.0 / OIDC token issuer for the authentication tests: a Node http server on
// loopback that serves its signing keys as a JSON Web Key Set at /jwks and issues real RS256 JWTs
// (node:crypto) at /token for the client-credentials grant, as Keycloak or Camunda's identity
// do. Tern validates these with its real code (src/gateway/auth).
//
// Clients are registered with a secret and, optionally, a `forge` option that makes the issuer
// hand out a token Tern must refuse (expired, wrong audience, ...), so real clients can be shown
// to be refused too.
import crypto from 'node:crypto';
import http from 'node:http';

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

export class TokenIssuer {
  constructor() {
    // The issuer's key, published at /jwks, and a stranger's key that is not.
    this.key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.kid = 'tern-test-key-1';
    this.stranger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.clients = new Map();
    this.tokenRequests = 0;
    this.jwksRequests = 0;
    this.lifetimeSeconds = 300;
  }

  async start() {
    this.server = http.createServer((request, response) => this.handle(request, response));
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
    // What Tern is configured with: --oidc-issuer, --oidc-jwks-url; clients use tokenUrl.
    this.issuer = this.url;
    this.jwksUrl = `${this.url}/jwks`;
    this.tokenUrl = `${this.url}/token`;
    return this;
  }

  async stop() {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  // `forge`: 'expired', 'wrong-audience', 'wrong-issuer', 'bad-signature', 'unknown-kid',
  // 'alg-none', or undefined for a good token.
  addClient(clientId, secret, { forge, claims = {} } = {}) {
    this.clients.set(clientId, { secret, forge, claims });
  }

  jwks() {
    const jwk = this.key.publicKey.export({ format: 'jwk' });
    return { keys: [{ ...jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  // A signed token with the given claims, or a forged one (see addClient).
  sign(claims, { forge, kid = this.kid } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: this.issuer,
      aud: 'zeebe-api',
      iat: now,
      nbf: now - 5,
      exp: now + this.lifetimeSeconds,
      ...claims,
    };
    let key = this.key.privateKey;
    const header = { alg: 'RS256', typ: 'JWT', kid };
    if (forge === 'expired') {
      // Well beyond Tern's 60 s of clock skew.
      payload.iat = now - 3600;
      payload.nbf = now - 3600;
      payload.exp = now - 600;
    } else if (forge === 'wrong-audience') {
      payload.aud = 'some-other-api';
    } else if (forge === 'wrong-issuer') {
      payload.iss = 'http://127.0.0.1:1/not-the-issuer';
    } else if (forge === 'bad-signature') {
      key = this.stranger.privateKey;  // the issuer's kid, a stranger's key
    } else if (forge === 'unknown-kid') {
      key = this.stranger.privateKey;
      header.kid = 'a-key-nobody-published';
    } else if (forge === 'alg-none') {
      header.alg = 'none';
      return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.`;
    }
    const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = crypto.sign('sha256', Buffer.from(signed), key);
    return `${signed}.${b64url(signature)}`;
  }

  async handle(request, response) {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString();
    const path = request.url.split('?')[0];
    const send = (status, json) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(json));
    };
    if (request.method === 'GET' && path === '/jwks') {
      this.jwksRequests++;
      return send(200, this.jwks());
    }
    if (request.method === 'POST' && path === '/token') {
      this.tokenRequests++;
      // Client credentials as a form (RFC 6749 2.3.1 client_secret_post), as JSON, or in a
      // basic Authorization header (client_secret_basic, Go's oauth2 package tries it first).
      let params = {};
      const type = request.headers['content-type'] ?? '';
      if (type.includes('json')) {
        try {
          params = JSON.parse(body);
        } catch {
          return send(400, { error: 'invalid_request' });
        }
      } else {
        params = Object.fromEntries(new URLSearchParams(body));
      }
      const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
      if (basic) {
        const [id, secret] = Buffer.from(basic[1], 'base64').toString().split(':');
        params.client_id = decodeURIComponent(id);
        params.client_secret = decodeURIComponent(secret ?? '');
      }
      if (params.grant_type !== 'client_credentials') {
        return send(400, { error: 'unsupported_grant_type' });
      }
      const client = this.clients.get(params.client_id);
      if (!client || client.secret !== params.client_secret) {
        return send(401, { error: 'invalid_client' });
      }
      const claims = {
        sub: params.client_id,
        azp: params.client_id,
        ...(params.audience ? { aud: params.audience } : {}),
        ...client.claims,
      };
      return send(200, {
        access_token: this.sign(claims, { forge: client.forge }),
        token_type: 'Bearer',
        expires_in: this.lifetimeSeconds,
        scope: params.scope ?? '',
      });
    }
    send(404, { error: 'not_found' });
  }
}
