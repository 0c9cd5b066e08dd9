// Package interop holds tests that drive real WAMP v1 clients against the
// real tagwamp server over loopback sockets: the third-party node client
// wamp1 (npm, pinned in package.json and package-lock.json) and a browser,
// headless Chromium, running a page that speaks WAMP v1 over its own
// WebSocket, and tagwamp's own demo page (package web) driven through its
// forms by playwright-core (demo_test.mjs, TestDemo), which launches
// Debian's /usr/bin/chromium and never downloads a browser. .ci/run
// installs node, chromium and the npm packages; where they are missing the
// tests skip and say so (under CI=true they fail).
package interop
