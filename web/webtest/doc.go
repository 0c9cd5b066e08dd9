// Package webtest runs the tests of the JavaScript client in web/ (node's
// built-in test runner, web/test/) against the real tagwamp server: its
// only file besides this one is a test that starts the servers on loopback
// ports and hands their addresses to node in environment variables. The
// package has no code of its own; nothing imports it.
package webtest
