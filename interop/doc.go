// Package interop holds tests that drive third-party WAMP v1 clients
// against the real tagwamp server over loopback sockets. The clients come
// from the npm registry, pinned in package.json and package-lock.json;
// .ci/run installs them with `npm ci`.
package interop
