package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"time"
)

// The request headers of the v7 OpenAPI (AUTH.md).
const (
	HeaderAppKey    = "m7-appkey"
	HeaderNonce     = "m7-nonce"
	HeaderTimestamp = "m7-timestamp"
	HeaderSign      = "m7-sign"
)

// ReplayWindow is how long the server remembers a sign+nonce and how far its
// clock may be from the client's (AUTH.md).
const ReplayWindow = 5 * time.Minute

// Sign returns the m7-sign header value for one request:
// base64(HMAC-SHA256(key = secret, message = appKey + timestamp + nonce)).
func Sign(appKey, secret, timestamp, nonce string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(appKey + timestamp + nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether sign is the signature of appKey, timestamp and nonce
// under secret, comparing in constant time.
func Verify(appKey, secret, timestamp, nonce, sign string) bool {
	want := Sign(appKey, secret, timestamp, nonce)
	return hmac.Equal([]byte(want), []byte(sign))
}

// Timestamp formats t as the m7-timestamp header wants it: Unix seconds.
func Timestamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10)
}

// errNonceSpace is returned when no fresh nonce can be found: the process has
// used most of the 900,000 six-digit nonces in the last five minutes.
var errNonceSpace = errors.New("no unused nonce left in the replay window")

// nonceSource hands out 6-digit crypto-random nonces and never repeats one it
// handed out within ReplayWindow (NOTES.md, "nonces"), so that the server can
// never refuse one of our requests as a replay.
type nonceSource struct {
	now func() time.Time

	mu     sync.Mutex
	recent map[string]struct{}
	order  []issued // oldest first
}

type issued struct {
	nonce string
	at    time.Time
}

func newNonceSource(now func() time.Time) *nonceSource {
	return &nonceSource{now: now, recent: make(map[string]struct{})}
}

// next returns a nonce not handed out in the last ReplayWindow.
func (s *nonceSource) next() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for len(s.order) > 0 && now.Sub(s.order[0].at) > ReplayWindow {
		delete(s.recent, s.order[0].nonce)
		s.order[0] = issued{}
		s.order = s.order[1:]
	}
	for range 100 {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return "", fmt.Errorf("nonce: %w", err)
		}
		nonce := strconv.FormatInt(100000+n.Int64(), 10)
		if _, used := s.recent[nonce]; used {
			continue
		}
		s.recent[nonce] = struct{}{}
		s.order = append(s.order, issued{nonce, now})
		return nonce, nil
	}
	return "", errNonceSpace
}
