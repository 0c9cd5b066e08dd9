// Package leakcheck fails a package's tests when goroutines they started
// outlive them. It is for TestMain functions only:
//
//	func TestMain(m *testing.M) {
//		leakcheck.Main(m, leakcheck.Options{Wait: 2 * time.Second})
//	}
//
// By default a leak is any goroutine more than were running before the
// tests; Leaked narrows it to the stacks that name a package's own code, for
// packages whose tests leave shared runtime goroutines behind on purpose.
package leakcheck
