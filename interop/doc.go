// Package interop holds tests that drive real WAMP v1 clients against the
// real tagwamp server over loopback sockets: the third-party node client
// wamp1 (npm, pinned in package.json and package-lock.json) and a browser,
// headless Chromium, running a page that speaks WAMP v1 over its own
// WebSocket. .ci/run installs node, chromium and the npm packages; where
// they are missing the tests skip and say so.
package interop
