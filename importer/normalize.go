package importer

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Policy decides which numbers are valid.
type Policy int

const (
	// Strict (the default) accepts only numbers libphonenumber holds valid
	// for the region, and sends the digits of their national format.
	Strict Policy = iota
	// Loose only cleans the cell (full-width digits, separators) and accepts
	// any 3 to 20 digits, optionally after a '+'.
	Loose
)

// ParsePolicy reads the --number-policy flag's value.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "strict":
		return Strict, nil
	case "loose":
		return Loose, nil
	}
	return Strict, fmt.Errorf("number policy %q: %w (want strict or loose)", s, ErrBadOption)
}

// String returns the policy's flag value.
func (p Policy) String() string {
	switch p {
	case Strict:
		return "strict"
	case Loose:
		return "loose"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// regionNames gives the report's reasons a country's name; other regions are
// named by their code.
var regionNames = map[string]string{
	"CN": "China", "HK": "Hong Kong", "MO": "Macao", "TW": "Taiwan", "US": "US",
	"GB": "UK", "JP": "Japan", "KR": "Korea", "SG": "Singapore", "MY": "Malaysia",
}

// Normalizer turns a phone-number cell into the form the dialer dials, or an
// error whose message is the report's reason. Build one with NewNormalizer
// and reuse it: it holds the region's precompiled fast path. A Normalizer is
// safe for concurrent use.
type Normalizer struct {
	region     string
	regionName string
	cc         int
	policy     Policy
	fast       *fastPath // nil: every number takes the full parse
}

// NewNormalizer returns a Normalizer for numbers written without a country
// code in region (e.g. "CN"; "" means "CN") under policy p.
func NewNormalizer(region string, p Policy) (*Normalizer, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		region = "CN"
	}
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if cc == 0 {
		return nil, fmt.Errorf("region %q: %w (want a two-letter region code such as CN)", region, ErrBadOption)
	}
	if p != Strict && p != Loose {
		return nil, fmt.Errorf("policy %d: %w", int(p), ErrBadOption)
	}
	n := &Normalizer{region: region, cc: cc, policy: p, regionName: region}
	if name, ok := regionNames[region]; ok {
		n.regionName = name
	}
	if p == Strict {
		f, err := fastPathFor(region)
		if err != nil {
			return nil, err
		}
		n.fast = f
	}
	return n, nil
}

// Region returns the normalizer's region code.
func (n *Normalizer) Region() string { return n.region }

// Policy returns the normalizer's policy.
func (n *Normalizer) Policy() Policy { return n.policy }

// Normalize turns a text cell into the dial form (digits, with a leading '+'
// only under Loose), or returns an error whose message is the report's
// reason and which wraps one of ErrMissingNumber, ErrDigitsLost,
// ErrLettersInNumber, ErrExtension, ErrTooShort, ErrTooLong, ErrNotRegion,
// ErrInvalidNumber or ErrNotANumber.
func (n *Normalizer) Normalize(text string) (string, error) {
	s, err := clean(text)
	if err != nil {
		return "", err
	}
	if n.policy == Loose {
		return loose(s)
	}
	if n.fast != nil {
		switch out, v := n.fast.normalize(s); v {
		case fastValid:
			return out, nil
		case fastInvalid:
			nn, _ := strconv.ParseUint(out, 10, 64)
			cc := int32(n.cc)
			return "", n.invalidReason(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn})
		}
	}
	return n.full(s)
}

// NormalizeNumeric normalizes a numeric XLSX cell from its raw stored value
// (13800138000, 1.3800138E10, 13800138000.0 are all 13800138000): the value
// becomes its integer digits, which are then normalized like text. A value
// with a fraction is invalid (ErrNotWholeNumber).
func (n *Normalizer) NormalizeNumeric(raw string) (string, error) {
	digits, ok := numericDigits(raw)
	if !ok {
		if strings.TrimSpace(raw) == "" {
			return "", ErrMissingNumber
		}
		return "", reason(ErrNotWholeNumber, "numeric cell %s is not a whole number", strings.TrimSpace(raw))
	}
	return n.Normalize(digits)
}

// isTrimSpace reports the characters removed around a cell: Unicode white
// space (U+3000 and U+00A0 included) and a BOM.
func isTrimSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// trimCell removes surrounding white space; it allocates nothing and
// returns at once when neither end is white space.
func trimCell(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; c <= ' ' || c >= utf8.RuneSelf && startsWithSpace(s) {
		return strings.TrimFunc(s, isTrimSpace)
	}
	if c := s[len(s)-1]; c <= ' ' || c >= utf8.RuneSelf && endsWithSpace(s) {
		return strings.TrimFunc(s, isTrimSpace)
	}
	return s
}

func startsWithSpace(s string) bool {
	switch s[0] {
	case 0xC2, 0xE1, 0xE2, 0xE3, 0xEF: // lead bytes of the non-ASCII spaces and the BOM
	default:
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return isTrimSpace(r)
}

// endsWithSpace checks the last rune cheaply: every non-ASCII space is
// two bytes after 0xC2 or three after 0xE1, 0xE2, 0xE3 or 0xEF (CJK
// characters start with 0xE4-0xE9 and are rejected at once).
func endsWithSpace(s string) bool {
	n := len(s)
	switch {
	case n >= 2 && s[n-2] == 0xC2:
	case n >= 3 && (s[n-3] == 0xE1 || s[n-3] == 0xE2 || s[n-3] == 0xE3 || s[n-3] == 0xEF):
	default:
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return isTrimSpace(r)
}

// clean applies the steps both policies share: trim, drop a leading
// apostrophe, refuse scientific notation, drop a trailing ".0".
func clean(text string) (string, error) {
	s := trimCell(text)
	if strings.HasPrefix(s, "'") || strings.HasPrefix(s, "＇") {
		_, size := utf8.DecodeRuneInString(s)
		s = trimCell(s[size:])
	}
	if s == "" {
		return "", ErrMissingNumber
	}
	if allDigits(s) {
		return s, nil
	}
	if strings.IndexAny(s, "eE") >= 0 && isScientific(s) {
		return "", ErrDigitsLost
	}
	if i := strings.LastIndexByte(s, '.'); i > 0 && allDigits(s[:i]) && s[i+1:] != "" && strings.Trim(s[i+1:], "0") == "" {
		s = s[:i]
	}
	return s, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isScientific reports a value such as 1.38001E+10 or 1.38E10.
func isScientific(s string) bool {
	s = strings.TrimLeft(s, "+-")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i >= len(s) || (s[i] != 'e' && s[i] != 'E') {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	return i < len(s) && allDigits(s[i:])
}

// narrow maps full-width digits, plus and separators to ASCII.
func narrow(r rune) rune {
	switch {
	case r >= '０' && r <= '９':
		return r - '０' + '0'
	case r == '＋':
		return '+'
	case r == '－' || r == '‐' || r == '‑' || r == '–' || r == '—' || r == '−':
		return '-'
	case r == '（':
		return '('
	case r == '）':
		return ')'
	case r == '．' || r == '。':
		return '.'
	case r == '\u3000' || r == '\u00a0':
		return ' '
	}
	return r
}

// loose implements the Loose policy on a cleaned cell.
func loose(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	digits, letters, other := 0, false, false
	for i, r := range s {
		r = narrow(r)
		switch {
		case r >= '0' && r <= '9':
			digits++
			b.WriteRune(r)
		case r == '+' && b.Len() == 0 && i == strings.IndexAny(s, "+＋"):
			b.WriteByte('+')
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		case unicode.IsLetter(r):
			letters = true
		default:
			other = true
		}
	}
	switch {
	case letters:
		return "", ErrLettersInNumber
	case other:
		return "", ErrNotANumber
	case digits < 3:
		return "", ErrTooShort
	case digits > 20:
		return "", ErrTooLong
	}
	out := b.String()
	if out == s {
		return s, nil // keep the caller's string, not a copy
	}
	return out, nil
}

// hasLetterOrExtension reports letters (or CJK text) in the cell.
func hasLetter(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if (r|0x20) >= 'a' && (r|0x20) <= 'z' {
				return true
			}
			continue
		}
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// mayHaveExtension reports whether s holds one of the markers
// libphonenumber reads as the start of an extension that involves letters
// (ext, x, anexo, int, доб) or a separator it accepts before one (# ~ ; ,).
func mayHaveExtension(s string) bool {
	l := strings.ToLower(s)
	return strings.ContainsAny(l, "x#ｘ＃~～;,") || strings.Contains(l, "ext") || strings.Contains(l, "anexo") ||
		strings.Contains(l, "int") || strings.Contains(l, "доб")
}

// full is the slow path: libphonenumber's parse, validity check and national
// format. Its verdict is the reference the fast path is tested against.
func (n *Normalizer) full(s string) (string, error) {
	if strings.IndexAny(s, "0123456789０１２３４５６７８９") < 0 {
		return "", ErrNotANumber // N/A, 无, 空号: no digit at all
	}
	if hasLetter(s) {
		if strings.Contains(s, "转") || strings.Contains(s, "分机") {
			return "", ErrExtension
		}
		// Only a cell with an extension marker is worth libphonenumber's
		// parse (~30 µs): 1380013800A or 138-0013-800O are just letters.
		if mayHaveExtension(s) {
			if num, err := phonenumbers.Parse(s, n.region); err == nil && num.GetExtension() != "" {
				return "", ErrExtension
			}
		}
		return "", ErrLettersInNumber
	}
	num, err := phonenumbers.Parse(s, n.region)
	if err != nil {
		switch err {
		case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD:
			return "", ErrTooShort
		case phonenumbers.ErrNumTooLong:
			return "", ErrTooLong
		case phonenumbers.ErrInvalidCountryCode:
			return "", reason(ErrInvalidNumber, "invalid country code")
		}
		return "", ErrNotANumber
	}
	if num.GetExtension() != "" {
		return "", ErrExtension
	}
	if cc := int(num.GetCountryCode()); cc != n.cc {
		if phonenumbers.IsValidNumber(num) {
			return "", &regionError{cc: cc, region: n.regionName}
		}
		return "", reason(ErrInvalidNumber, "+%d number: not a valid number", cc)
	}
	if !phonenumbers.IsValidNumberForRegion(num, n.region) {
		return "", n.invalidReason(num)
	}
	return digitsOf(phonenumbers.Format(num, phonenumbers.NATIONAL)), nil
}

// invalidReason explains why a number of the region is not valid.
func (n *Normalizer) invalidReason(num *phonenumbers.PhoneNumber) error {
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	{
		switch phonenumbers.IsPossibleNumberWithReason(num) {
		case phonenumbers.TOO_SHORT:
			return ErrTooShort
		case phonenumbers.TOO_LONG:
			return ErrTooLong
		}
		if n.region == "CN" && len(nsn) >= 5 && len(nsn) <= 8 && nsn[0] != '1' {
			return reason(ErrInvalidNumber, "%d digits: a landline number needs its area code", len(nsn))
		}
		// 13x-19x look like mobiles; 10x is Beijing's area code.
		if n.region == "CN" && len(nsn) > 1 && nsn[0] == '1' && nsn[1] >= '3' {
			switch len(nsn) {
			case 10:
				return reason(ErrInvalidNumber, "10 digits starting with 1: a digit may be missing")
			case 12:
				return reason(ErrInvalidNumber, "12 digits starting with 1: a digit too many")
			}
		}
		return reason(ErrInvalidNumber, "not a valid %s number", n.regionName)
	}
}

func digitsOf(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// regionError is a number valid in another country than the region.
type regionError struct {
	cc     int
	region string
}

func (e *regionError) Error() string {
	return fmt.Sprintf("+%d number: not a %s number; use --region or --number-policy loose", e.cc, e.region)
}

func (e *regionError) Is(target error) bool { return target == ErrNotRegion }

// numericDigits turns a numeric cell's raw xsd:double spelling into the
// digits of its integer value, exactly (no float rounding); ok is false for
// a value with a fraction, a negative value or something not a number.
func numericDigits(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if allDigits(s) {
		if len(s) > 1 && s[0] == '0' {
			s = strings.TrimLeft(s, "0")
			if s == "" {
				s = "0"
			}
		}
		return s, true
	}
	s = strings.TrimPrefix(s, "+")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		neg := false
		if e != "" && (e[0] == '+' || e[0] == '-') {
			neg = e[0] == '-'
			e = e[1:]
		}
		if !allDigits(e) || len(e) > 3 {
			return "", false
		}
		for j := 0; j < len(e); j++ {
			exp = exp*10 + int(e[j]-'0')
		}
		if neg {
			exp = -exp
		}
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if (intPart != "" && !allDigits(intPart)) || (frac != "" && !allDigits(frac)) || intPart+frac == "" {
		return "", false
	}
	all := intPart + frac
	point := len(intPart) + exp
	if point > 30 {
		return "", false
	}
	var whole, rest string
	switch {
	case point <= 0:
		whole, rest = "0", all
	case point >= len(all):
		whole = all + strings.Repeat("0", point-len(all))
	default:
		whole, rest = all[:point], all[point:]
	}
	if strings.Trim(rest, "0") != "" {
		return "", false
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	return whole, true
}

// metadataFor returns libphonenumber's metadata for a region. The
// collection is parsed once per process (the library caches it without a
// lock, hence the sync.Once around the first call).
var metadataCollection = sync.OnceValues(phonenumbers.MetadataCollection)

func metadataFor(region string) (*phonenumbers.PhoneMetadata, error) {
	coll, err := metadataCollection()
	if err != nil {
		return nil, fmt.Errorf("phone metadata: %w", err)
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == region {
			return m, nil
		}
	}
	return nil, nil
}
