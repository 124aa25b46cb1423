package importer

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// fastPath decides the common shapes of a region's numbers without
// libphonenumber's full parse (about 32 µs and 82 allocations a number):
//   - a mobile number, optionally after +86, 0086 or 86: valid when the
//     library's mobile and general patterns (and possible lengths) accept it;
//   - a landline with its trunk prefix 0 and area code: valid when the
//     fixed-line and general patterns accept it;
//   - a 400 or 800 service number (10 digits) that the library holds valid;
//   - a mobile-looking number that is no valid number of the region at all
//     (a digit missing, one too many): invalid, with the full parse's reason.
//
// The patterns are compiled from the library's own metadata for the region
// into digit automata, so the verdict is the library's; everything else goes
// to the full parse. FuzzFastPathAgreesWithFullParse checks that both agree
// on every input the fast path decides.
type fastPath struct {
	cc         string    // country calling code digits, "86"
	mobile     *digitDFA // mobile ∧ general, with possible lengths
	fixed      *digitDFA // fixed line ∧ general, with possible lengths
	valid      *digitDFA // what IsValidNumberForRegion accepts as a national number
	mobileLen  int       // the one length of mobile numbers
	mobileLead byte      // the first digit all mobile numbers share
}

// fastVerdict is what the fast path decided.
type fastVerdict int

const (
	fastUnsure  fastVerdict = iota // take the full parse
	fastValid                      // out is the dial form
	fastInvalid                    // out is the national number; ask invalidReason
)

// fastPathRegions are the regions whose fast path the differential fuzz test
// has checked against the full parse. Other regions always take the full
// parse.
var fastPathRegions = map[string]bool{"CN": true}

// descDFA compiles a number description: its pattern and possible lengths.
func descDFA(desc *phonenumbers.PhoneNumberDesc) (*digitDFA, error) {
	if desc == nil {
		return compileDigitDFA("NA")
	}
	d, err := compileDigitDFA(desc.GetNationalNumberPattern())
	if err != nil {
		return nil, err
	}
	mask := ^uint64(0)
	if ls := desc.GetPossibleLength(); len(ls) > 0 {
		mask = 0
		for _, l := range ls {
			if l > 0 && l < 64 {
				mask |= 1 << l
			}
		}
	}
	return d.combine(lengthDFA(mask), false)
}

// cnFastPath is China's fast path, compiled once per process on first use
// (a few milliseconds) and read-only afterwards.
var cnFastPath = sync.OnceValues(func() (*fastPath, error) { return compileFastPath("CN") })

// fastPathFor returns the fast path of a region, or nil when the region has
// none.
func fastPathFor(region string) (*fastPath, error) {
	if region == "CN" {
		return cnFastPath()
	}
	return nil, nil
}

// compileFastPath builds the fast path of a region from its metadata.
func compileFastPath(region string) (*fastPath, error) {
	if !fastPathRegions[region] {
		return nil, nil
	}
	md, err := metadataFor(region)
	if err != nil || md == nil {
		return nil, err
	}
	if md.GetNationalPrefix() != "0" || md.GetSameMobileAndFixedLinePattern() {
		return nil, nil
	}
	fail := func(err error) (*fastPath, error) {
		return nil, fmt.Errorf("compile %s fast path: %w", region, err)
	}
	f := &fastPath{cc: strconv.Itoa(int(md.GetCountryCode()))}
	general, err := descDFA(md.GetGeneralDesc())
	if err != nil {
		return fail(err)
	}
	var anyType *digitDFA
	for _, desc := range []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
		md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine(), md.GetMobile()} {
		d, err := descDFA(desc)
		if err != nil {
			return fail(err)
		}
		if anyType == nil {
			anyType = d
		} else if anyType, err = anyType.combine(d, true); err != nil {
			return fail(err)
		}
	}
	if f.valid, err = general.combine(anyType, false); err != nil {
		return fail(err)
	}
	mobile, err := descDFA(md.GetMobile())
	if err != nil {
		return fail(err)
	}
	if f.mobile, err = mobile.combine(general, false); err != nil {
		return fail(err)
	}
	fixed, err := descDFA(md.GetFixedLine())
	if err != nil {
		return fail(err)
	}
	if f.fixed, err = fixed.combine(general, false); err != nil {
		return fail(err)
	}
	// The mobile shape is recognised by its one length and first digit.
	if ml := md.GetMobile().GetPossibleLength(); len(ml) == 1 {
		f.mobileLen = int(ml[0])
	}
	lead := -1
	for d := range 10 {
		if f.mobile.next[0][d] >= 0 {
			if lead >= 0 {
				return nil, nil
			}
			lead = d
		}
	}
	if lead < 0 || f.mobileLen == 0 {
		return nil, nil
	}
	f.mobileLead = byte('0' + lead)
	return f, nil
}

// normalize decides s when it has one of the fast shapes.
func (f *fastPath) normalize(s string) (string, fastVerdict) {
	if len(s) > 64 { // libphonenumber refuses inputs over 250 characters; real numbers are short
		return "", fastUnsure
	}
	var buf [24]byte
	n := 0
	plus := false
	contiguous := true // the digits are s[len(s)-n:], with no separators or full-width digits
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return "", fastUnsure
			}
			buf[n] = c
			n++
		case c == '+' && n == 0 && !plus:
			plus = true
			contiguous = false
		case c == ' ' || c == '-' || c == '(' || c == ')':
			contiguous = false
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99: // ０-９
			if n == len(buf) {
				return "", fastUnsure
			}
			buf[n] = '0' + s[i+2] - 0x90
			n++
			i += 2
			contiguous = false
		default:
			return "", fastUnsure
		}
	}
	d := buf[:n]
	cc := f.cc
	switch {
	case n == 0:
		return "", fastUnsure
	case plus:
		if !hasPrefix(d, cc) {
			return "", fastUnsure
		}
		d = d[len(cc):]
		if f.isMobile(d) {
			break
		}
		// A landline written internationally (+86 21 8377 8555) is
		// dialled with the trunk prefix 0 before its area code.
		if f.cc == "86" && len(d) >= 9 && len(d) <= 11 && d[0] != '0' && (d[0] != '1' || d[1] == '0') && f.fixed.match(d) {
			return "0" + string(d), fastValid
		}
		return "", fastUnsure
	case len(d) == 2+len(cc)+f.mobileLen && d[0] == '0' && d[1] == '0' && hasPrefix(d[2:], cc):
		d = d[2+len(cc):]
		if !f.isMobile(d) {
			return "", fastUnsure
		}
	case len(d) == len(cc)+f.mobileLen && hasPrefix(d, cc):
		d = d[len(cc):]
		if !f.isMobile(d) {
			return "", fastUnsure
		}
	case d[0] == f.mobileLead && f.mobileLead == '1' && f.cc == "86":
		// China: after 13-19 (but not 179) no carrier code or IDD can
		// start, so the digits are the national number as they stand.
		if len(d) < 7 || len(d) > 12 || d[1] < '3' || (d[1] == '7' && d[2] == '9') {
			return "", fastUnsure
		}
		if len(d) == f.mobileLen && f.isMobile(d) {
			break
		}
		if !f.valid.match(d) {
			return string(d), fastInvalid
		}
		return "", fastUnsure
	case f.cc == "86" && len(d) == 10 && (d[0] == '4' || d[0] == '8') && d[1] == '0' && d[2] == '0':
		// China's 400 and 800 service numbers are dialled as written.
		if !f.valid.match(d) {
			return "", fastUnsure
		}
	case len(d) >= 10 && len(d) <= 12 && d[0] == '0' && d[1] != '0':
		if !f.fixed.match(d[1:]) {
			return "", fastUnsure
		}
	default:
		return "", fastUnsure
	}
	if contiguous && len(d) <= len(s) {
		return s[len(s)-len(d):], fastValid
	}
	return string(d), fastValid
}

func hasPrefix(d []byte, p string) bool {
	return len(d) >= len(p) && string(d[:len(p)]) == p
}

func (f *fastPath) isMobile(d []byte) bool {
	return len(d) == f.mobileLen && d[0] == f.mobileLead && f.mobile.match(d)
}
