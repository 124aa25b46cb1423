package web

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// TokenHeader is the request header that carries the page's token.
const TokenHeader = "X-M7-Token"

// tokenCookie keeps the token in the browser after a first ?token= load
// (non-loopback servers only), so that links and the event stream work.
const tokenCookie = "m7_token"

// contentSecurityPolicy allows nothing from outside the server's origin and
// no framing.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// guard wraps the routes with the checks every request passes: security
// headers, the Host header (DNS rebinding), and the token.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")

		if !s.hostAllowed(r) {
			s.writeError(w, r, fmt.Errorf("%w: host %q is not this server's address; open the page at the address m7import serve printed", errForbidden, r.Host))
			return
		}
		if !s.loopback {
			if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet && s.tokenEqual(q) {
				// First load from the printed URL: keep the token in a
				// cookie and drop it from the address bar and history.
				http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.cfg.Token, Path: "/",
					HttpOnly: true, SameSite: http.SameSiteStrictMode})
				clean := *r.URL
				qs := clean.Query()
				qs.Del("token")
				clean.RawQuery = qs.Encode()
				http.Redirect(w, r, clean.RequestURI(), http.StatusSeeOther)
				return
			}
			if !s.tokenEqual(r.Header.Get(TokenHeader)) && !s.cookieOK(r) {
				s.writeError(w, r, fmt.Errorf("%w: this server needs its token: open the URL it printed (with ?token=...) or send the %s header", errForbidden, TokenHeader))
				return
			}
		}
		if stateChanging(r.Method) && !s.tokenEqual(r.Header.Get(TokenHeader)) {
			s.writeError(w, r, fmt.Errorf("%w: missing or wrong %s header: send the token from the page's <meta name=\"m7-token\">", errForbidden, TokenHeader))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func (s *Server) tokenEqual(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

func (s *Server) cookieOK(r *http.Request) bool {
	c, err := r.Cookie(tokenCookie)
	return err == nil && s.tokenEqual(c.Value)
}

// hostAllowed accepts a Host header naming this server: a loopback name
// with the port the request came in on when bound to loopback, the
// configured or connected address otherwise, or one of
// Config.AllowedHosts. Anything else is a DNS-rebinding attempt (a page of
// another site whose name now resolves to 127.0.0.1).
func (s *Server) hostAllowed(r *http.Request) bool {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "80"
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	// The port the connection actually arrived on (Addr may say :0).
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	localHost, localPort := "", ""
	if local != nil {
		localHost, localPort, _ = net.SplitHostPort(local.String())
	}
	if localPort != "" && port != localPort {
		return hostListed(s.cfg.AllowedHosts, r.Host, host)
	}
	if isLoopbackHost(host) {
		return true
	}
	if !s.loopback {
		cfgHost, _, _ := net.SplitHostPort(s.cfg.Addr)
		if ip := net.ParseIP(host); ip != nil && (ip.Equal(net.ParseIP(localHost)) || ip.Equal(net.ParseIP(cfgHost))) {
			return true
		}
		if strings.EqualFold(host, cfgHost) {
			return true
		}
	}
	return hostListed(s.cfg.AllowedHosts, r.Host, host)
}

func hostListed(list []string, full, host string) bool {
	for _, a := range list {
		if u, err := url.Parse("//" + a); err == nil && (strings.EqualFold(a, full) || (u.Port() == "" && strings.EqualFold(u.Hostname(), host))) {
			return true
		}
	}
	return false
}
