package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
)

func TestClassifyErrors(t *testing.T) {
	sentNoReply := &api.Error{Sent: true, Err: io.EOF}
	tests := []struct {
		name string
		err  error
		want api.Class
	}{
		{"nil", nil, api.Permanent},
		{"local error", api.ErrTooManyRows, api.Permanent},
		{"not sent", &api.Error{Err: errors.New("connection refused")}, api.Retryable},
		{"sent, no reply", sentNoReply, api.Ambiguous},
		{"sent, no reply, wrapped", fmt.Errorf("batch 3: %w", sentNoReply), api.Ambiguous},
		// success:false under HTTP 200: the code decides.
		{"200 ERR_BUSY after processing", &api.Error{HTTPStatus: 200, Sent: true, Code: "ERR_BUSY", Message: "busy"}, api.Ambiguous},
		{"200 numeric vendor code", &api.Error{HTTPStatus: 200, Sent: true, Code: "10001"}, api.Ambiguous},
		{"200 no code", &api.Error{HTTPStatus: 200, Sent: true}, api.Ambiguous},
		{"200 code 200 yet success:false", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeOK}, api.Ambiguous},
		{"200 code 500", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeInternal}, api.Ambiguous},
		{"200 code 502", &api.Error{HTTPStatus: 200, Sent: true, Code: "502"}, api.Ambiguous},
		{"200 code 418, not a known refusal", &api.Error{HTTPStatus: 200, Sent: true, Code: "418"}, api.Ambiguous},
		{"200 validation refusal", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeInvalid}, api.Permanent},
		{"200 unknown task", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeNotFound}, api.Permanent},
		{"200 method", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeMethod}, api.Permanent},
		{"200 too large", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeTooLarge}, api.Permanent},
		{"200 content type", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeContentType}, api.Permanent},
		{"200 auth", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeAuth}, api.Permanent},
		{"200 clock skew", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeClockSkew}, api.Permanent},
		{"200 replay: fresh nonce", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeReplay}, api.Retryable},
		{"200 rate limited", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeRateLimited}, api.Retryable},
		{"200 unavailable", &api.Error{HTTPStatus: 200, Sent: true, Code: api.CodeUnavailable}, api.Retryable},
		{"200 undecodable", &api.Error{HTTPStatus: 200, Sent: true, Err: api.ErrBadResponse}, api.Ambiguous},
		// Other statuses: the status decides.
		{"400 with a vendor code", &api.Error{HTTPStatus: 400, Sent: true, Code: "ERR_PARAM"}, api.Permanent},
		{"401", &api.Error{HTTPStatus: 401, Sent: true, Code: api.CodeAuth}, api.Permanent},
		{"409 replay", &api.Error{HTTPStatus: 409, Sent: true, Code: api.CodeReplay}, api.Retryable},
		{"429 with a vendor code", &api.Error{HTTPStatus: 429, Sent: true, Code: "ERR_RATE"}, api.Retryable},
		{"503 HTML", &api.Error{HTTPStatus: 503, Sent: true, Message: "503 Service Unavailable"}, api.Retryable},
		{"502 HTML from a gateway", &api.Error{HTTPStatus: 502, Sent: true, Message: "502 Bad Gateway"}, api.Ambiguous},
		{"500 with a refusal code", &api.Error{HTTPStatus: 500, Sent: true, Code: api.CodeInvalid}, api.Ambiguous},
		{"507", &api.Error{HTTPStatus: 507, Sent: true}, api.Ambiguous},
		{"302", &api.Error{HTTPStatus: 302, Sent: true}, api.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := api.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorTextReadsOnce(t *testing.T) {
	tests := []struct {
		name string
		err  *api.Error
		want string
	}{
		{"refused signature", &api.Error{Endpoint: api.PathImport, HTTPStatus: 401, Code: "401", Message: "sign error"},
			"7moor " + api.PathImport + ": HTTP 401: code 401: sign error"},
		{"business error with request id", &api.Error{Endpoint: api.PathImport, HTTPStatus: 200, Code: "ERR_BUSY", Message: "busy", RequestID: "ab12"},
			"7moor " + api.PathImport + ": HTTP 200: code ERR_BUSY: busy (request id ab12)"},
		{"HTML page: no empty code", &api.Error{Endpoint: api.PathImport, HTTPStatus: 502, Message: "502 Bad Gateway"},
			"7moor " + api.PathImport + ": HTTP 502: 502 Bad Gateway"},
		{"code without message", &api.Error{Endpoint: api.PathImport, HTTPStatus: 200, Code: "ERR_BUSY"},
			"7moor " + api.PathImport + ": HTTP 200: code ERR_BUSY"},
		{"message repeating the code", &api.Error{Endpoint: api.PathImport, HTTPStatus: 200, Code: "ERR_BUSY", Message: "ERR_BUSY"},
			"7moor " + api.PathImport + ": HTTP 200: code ERR_BUSY"},
		{"no reply", &api.Error{Endpoint: api.PathImport, Sent: true, Err: io.EOF},
			"7moor " + api.PathImport + ": request sent, no reply: EOF"},
		{"not sent", &api.Error{Endpoint: api.PathImport, Err: errors.New("dial tcp: connection refused")},
			"7moor " + api.PathImport + ": request not sent: dial tcp: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorTextOverHTTP(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    string
		notWant []string
	}{
		{"nginx 502 page", 502,
			"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			": HTTP 502: 502 Bad Gateway", []string{"code", "<", "\n"}},
		{"plain text", 503, "upstream\n  overloaded\n", ": HTTP 503: upstream overloaded", []string{"code", "\n"}},
		{"long body cut", 500, strings.Repeat("错", 300), "...", []string{"\ufffd", "?"}},
		{"envelope", 401, `{"success":false,"code":"401","message":"sign error"}`, ": HTTP 401: code 401: sign error", []string{"code 401: code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := fixedServer(t, tt.status, nil, tt.body)
			c, _ := api.New(api.Config{BaseURL: ts.URL, AppKey: "k", Secret: "s"})
			_, err := c.Post(context.Background(), api.PathImport, []byte(`{}`), nil)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("Error() = %q, want it to contain %q", msg, tt.want)
			}
			for _, bad := range tt.notWant {
				if strings.Contains(strings.TrimPrefix(msg, "7moor "+api.PathImport), bad) {
					t.Errorf("Error() = %q contains %q", msg, bad)
				}
			}
		})
	}
}

func TestTransportErrorDoesNotRepeatTheURL(t *testing.T) {
	c, _ := api.New(api.Config{BaseURL: "http://127.0.0.1:1", AppKey: "k", Secret: "s"})
	_, err := c.Import(context.Background(), api.ImportRequest{TaskID: "t", ImportData: rows("1")})
	if err == nil {
		t.Fatal("no error")
	}
	if msg := err.Error(); strings.Count(msg, "/openapi/") != 1 || !strings.Contains(msg, "request not sent") {
		t.Errorf("Error() = %q, want the path once and 'request not sent'", msg)
	}
}

func TestRetryAfterIsNotCapped(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
	}{
		{"a day in seconds", "86400", 24 * time.Hour},
		{"two days in seconds", "172800", 48 * time.Hour},
		{"a day as an HTTP date", now.Add(24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"RFC 850 date", now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{"ANSI C date", now.Add(time.Hour).Format(time.ANSIC), time.Hour},
		{"beyond a Duration", "99999999999999999999999", time.Duration(math.MaxInt64)},
		{"spaces around", " 30 ", 30 * time.Second},
		{"zero", "0", 0},
		{"fraction", "1.5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := fixedServer(t, 429, map[string]string{"Retry-After": tt.header}, `{"success":false,"code":"429","message":"slow down"}`)
			c, _ := api.New(api.Config{BaseURL: ts.URL, AppKey: "k", Secret: "s", Now: func() time.Time { return now }})
			_, err := c.Post(context.Background(), api.PathImport, []byte(`{}`), nil)
			if got := api.RetryAfter(err); got != tt.want {
				t.Errorf("RetryAfter = %v, want %v", got, tt.want)
			}
			if api.Classify(err) != api.Retryable {
				t.Errorf("429 classified %v", api.Classify(err))
			}
		})
	}
}
