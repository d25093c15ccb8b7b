// Package e2e holds the real-browser tests of cookiesession. They build the
// demo server from ../examples/demo, run it on a free loopback port, and
// drive Debian's headless Chromium against it with chromedp. TestLiveBrowser
// serves its own Managers over TLS instead, to change the cookie's settings
// between requests. TestFirefox drives Debian's Firefox ESR over WebDriver
// BiDi against a Manager of its own on http://localhost. TestBackAfterLogout
// drives both over TLS to record what the Back button shows after a logout.
//
// It is a module of its own so that chromedp never reaches the importers of
// cookiesession. Run it with:
//
//	./install-chromium.sh   # once; apt-get install -y chromium
//	apt-get install -y firefox-esr   # once, for TestFirefox
//	go test -count=1 ./...
//
// Without a chromium (or firefox-esr) binary on PATH the tests that need it
// skip, unless the environment variable CI is set: in CI a missing browser
// is a failure.
package e2e
