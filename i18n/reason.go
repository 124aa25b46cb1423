package i18n

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Reason translates a report's reason, written in English by the code that
// decided the row's fate, into l. English comes back unchanged, byte for
// byte. A reason is translated layer by layer (a suffix such as "(after 3
// attempts)" or "; not resent under rule 2 ...", a prefix such as "outcome
// unknown: ", then the core); a part no rule knows — the vendor's message,
// a column name, an error from the operating system — is kept as it is.
func Reason(l Lang, english string) string {
	if l == En || english == "" {
		return english
	}
	return reasonZh(english, 0)
}

// Reasons returns Reason for l as a function, the shape reports.Options
// takes. It remembers recent translations (a report repeats the same few
// reasons on many rows), up to a bound, and is safe for concurrent use.
// For English it is the identity.
func Reasons(l Lang) func(string) string {
	if l == En {
		return func(s string) string { return s }
	}
	c := &cache{l: l, m: make(map[string]string)}
	return c.reason
}

// cacheSize bounds a Reasons cache: reasons that carry a row number
// ("duplicate of row 35") are all different, so the cache starts over when
// full rather than growing with the file.
const cacheSize = 4096

type cache struct {
	l  Lang
	mu sync.Mutex
	m  map[string]string
}

func (c *cache) reason(s string) string {
	c.mu.Lock()
	out, ok := c.m[s]
	c.mu.Unlock()
	if ok {
		return out
	}
	out = Reason(c.l, s)
	c.mu.Lock()
	if len(c.m) >= cacheSize {
		clear(c.m)
	}
	c.m[s] = out
	c.mu.Unlock()
	return out
}

// maxDepth bounds the layers of a reason that are translated; deeper parts
// are kept as they are. Real reasons have three or four.
const maxDepth = 8

// maxLen bounds the reasons that are translated at all: a longer one is not
// one this program wrote (a vendor's page of HTML as a message) and is kept.
const maxLen = 4096

func reasonZh(s string, depth int) string {
	if depth > maxDepth || len(s) > maxLen || !utf8.ValidString(s) {
		return s
	}
	if zh, ok := exactZh[s]; ok {
		return zh
	}
	for i := range rules {
		r := &rules[i]
		if r.prefix != "" && !strings.HasPrefix(s, r.prefix) {
			continue
		}
		m := r.re.FindStringSubmatchIndex(s)
		if m == nil {
			continue
		}
		return r.expand(s, m, depth)
	}
	return s
}

// conv turns a captured part of a reason into Chinese.
type conv int

const (
	lit    conv = iota // kept as it is: a number, a column, a vendor's message
	rsn                // a reason of its own, translated recursively
	region             // a region's English name (China), see regionZh
	batchs             // "batch 3: 40 rows, batch 4: 48 rows"
)

// rule is a pattern a whole reason matches and its Chinese: zh holds {1},
// {2}, ... for the captured groups, each converted as convs says.
type rule struct {
	re     *regexp.Regexp
	prefix string // the pattern's literal prefix, to skip rules cheaply
	zh     string
	convs  []conv
}

func (r *rule) expand(s string, m []int, depth int) string {
	var b strings.Builder
	t := r.zh
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 || i+2 >= len(t) || t[i+2] != '}' || t[i+1] < '1' || t[i+1] > '9' {
			if i < 0 {
				b.WriteString(t)
				return b.String()
			}
			b.WriteString(t[:i+1])
			t = t[i+1:]
			continue
		}
		b.WriteString(t[:i])
		g := int(t[i+1] - '0')
		var part string
		if 2*g+1 < len(m) && m[2*g] >= 0 {
			part = s[m[2*g]:m[2*g+1]]
		}
		c := lit
		if g-1 < len(r.convs) {
			c = r.convs[g-1]
		}
		switch c {
		case rsn:
			part = reasonZh(part, depth+1)
		case region:
			if zh, ok := regionZh[part]; ok {
				part = zh
			} else {
				part = " " + part + " " // a region code: 不是 FR 号码
			}
		case batchs:
			part = batchRe.ReplaceAllString(part, "批次 $1：$2 行")
			part = strings.ReplaceAll(part, ", ", "，")
		}
		b.WriteString(part)
		t = t[i+3:]
	}
}

var batchRe = regexp.MustCompile(`batch (\d+): (\d+) rows`)

// newRule compiles a rule: pattern must match the whole reason.
func newRule(pattern, zh string, convs ...conv) rule {
	re := regexp.MustCompile(`^(?s:` + pattern + `)$`)
	prefix, _ := re.LiteralPrefix()
	return rule{re: re, prefix: prefix, zh: zh, convs: convs}
}

// regionZh names in Chinese the regions importer names in English in its
// reasons; another region is named by its code, which is kept.
var regionZh = map[string]string{
	"China": "中国", "Hong Kong": "中国香港", "Macao": "中国澳门", "Taiwan": "中国台湾",
	"US": "美国", "UK": "英国", "Japan": "日本", "Korea": "韩国",
	"Singapore": "新加坡", "Malaysia": "马来西亚",
}
