package importer

import (
	"errors"
	"testing"
)

func TestNormalizeStrict(t *testing.T) {
	n, err := NewNormalizer("CN", Strict)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
		err      error
		reason   string
	}{
		{in: "13800138000", want: "13800138000"},
		{in: " 138 0013 8000 ", want: "13800138000"},
		{in: "+86 138-0013-8000", want: "13800138000"},
		{in: "0086 138 0013 8000", want: "13800138000"},
		{in: "8613800138000", want: "13800138000"},
		{in: "１３８００１３８０００", want: "13800138000"},
		{in: "'13800138000", want: "13800138000"},
		{in: "\u00a013800138000\u3000", want: "13800138000"},
		{in: "13800138000.0", want: "13800138000"},
		{in: "010-12345678", want: "01012345678"},
		{in: "(0755) 1234 5678", want: "075512345678"},
		{in: "+86 10 12345678", want: "01012345678"},
		{in: "400-800-1234", want: "4008001234"},
		{in: "1.38001E+10", err: ErrDigitsLost},
		{in: "1380013800", err: ErrInvalidNumber, reason: "10 digits starting with 1: a digit may be missing"},
		{in: "138001380001", err: ErrInvalidNumber, reason: "12 digits starting with 1: a digit too many"},
		{in: "1380013800A", err: ErrLettersInNumber, reason: "letters in number: keep only the digits (an O for a 0? an l for a 1?)"},
		{in: "010-12345678 ext. 123", err: ErrExtension, reason: "extension not supported: keep the number without its extension (转 8, ext. 8); an extension cannot be dialled"},
		{in: "010-12345678转123", err: ErrExtension},
		{in: "010-12345678#123", err: ErrExtension},
		{in: "", err: ErrMissingNumber, reason: "missing number: fill in the number or delete the row"},
		{in: "   ", err: ErrMissingNumber},
		{in: "12", err: ErrTooShort},
		{in: "+1 202-555-0123", err: ErrNotRegion, reason: "+1 number: not a China number; use --region or --number-policy loose"},
		{in: "-", err: ErrNotANumber},
		{in: "23456789", err: ErrInvalidNumber, reason: "8 digits: a landline number needs its area code"},
	}
	for _, tt := range tests {
		got, err := n.Normalize(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Normalize(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
			} else if tt.reason != "" && err.Error() != tt.reason {
				t.Errorf("Normalize(%q) reason %q; want %q", tt.in, err, tt.reason)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeLoose(t *testing.T) {
	n, err := NewNormalizer("CN", Loose)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
		err      error
	}{
		{in: "+1 202-555-0123", want: "+12025550123"},
		{in: "138-0013-8000", want: "13800138000"},
		{in: "（010）１２３４５６７８", want: "01012345678"},
		{in: "95555", want: "95555"},
		{in: "1380013800", want: "1380013800"},
		{in: "12", err: ErrTooShort},
		{in: "123456789012345678901", err: ErrTooLong},
		{in: "abc123", err: ErrLettersInNumber},
		{in: "1.38001E+10", err: ErrDigitsLost},
		{in: "13800138000.0", want: "13800138000"},
		{in: "1+2345", err: ErrNotANumber},
		{in: "", err: ErrMissingNumber},
	}
	for _, tt := range tests {
		got, err := n.Normalize(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Normalize(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeNumeric(t *testing.T) {
	n, err := NewNormalizer("CN", Strict)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		raw, want string
		err       error
	}{
		{raw: "13800138000", want: "13800138000"},
		{raw: "1.3800138E10", want: "13800138000"},
		{raw: "1.3800138E+10", want: "13800138000"},
		{raw: "13800138000.0", want: "13800138000"},
		{raw: "8.613800138E12", want: "13800138000"},
		{raw: "1.38001380005E10", err: ErrNotWholeNumber},
		{raw: "-13800138000", err: ErrNotWholeNumber},
		{raw: "1E999", err: ErrNotWholeNumber},
		{raw: "45000", err: ErrInvalidNumber},
		{raw: "", err: ErrMissingNumber},
	}
	for _, tt := range tests {
		got, err := n.NormalizeNumeric(tt.raw)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("NormalizeNumeric(%q) = %q, %v; want error %v", tt.raw, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeNumeric(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestParsePolicyAndRegion(t *testing.T) {
	for in, want := range map[string]Policy{"": Strict, "strict": Strict, "LOOSE": Loose} {
		if got, err := ParsePolicy(in); err != nil || got != want || got.String() != want.String() {
			t.Errorf("ParsePolicy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParsePolicy("lax"); !errors.Is(err, ErrBadOption) {
		t.Errorf("ParsePolicy(lax) err = %v", err)
	}
	if _, err := NewNormalizer("XX", Strict); !errors.Is(err, ErrBadOption) {
		t.Errorf("NewNormalizer(XX) err = %v", err)
	}
	if n, err := NewNormalizer("US", Strict); err != nil {
		t.Fatal(err)
	} else if got, err := n.Normalize("(202) 555-0123"); err != nil && !errors.Is(err, ErrInvalidNumber) {
		t.Errorf("US Normalize = %q, %v", got, err)
	}
}

func FuzzNormalizer(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138-0013-8000", "1.38001E+10", "13800138000.0",
		"１３８００１３８０００", "010-12345678转123", "'0755 1234 5678", "+", "0086", "8.6E12", "\u3000"} {
		f.Add(s)
	}
	strict, _ := NewNormalizer("CN", Strict)
	loose, _ := NewNormalizer("CN", Loose)
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range []*Normalizer{strict, loose} {
			out, err := n.Normalize(s)
			if err == nil && out == "" {
				t.Errorf("%v: Normalize(%q) valid but empty", n.Policy(), s)
			}
			if err != nil && out != "" {
				t.Errorf("%v: Normalize(%q) = %q with error %v", n.Policy(), s, out, err)
			}
			if err == nil {
				// The dial form is stable.
				again, err2 := n.Normalize(out)
				if n.Policy() == Loose && (err2 != nil || again != out) {
					t.Errorf("loose: Normalize(%q) = %q, but again %q, %v", s, out, again, err2)
				}
			}
			n.NormalizeNumeric(s)
		}
	})
}

func TestTrimCell(t *testing.T) {
	for in, want := range map[string]string{
		"": "", " a ": "a", "张三": "张三", "张三\u3000": "张三", "\u00a0张三\u00a0": "张三",
		"\ufeffx\u2003": "x", "a\u0085": "a", "备注": "备注", "x\u1680": "x", "¢": "¢",
	} {
		if got := trimCell(in); got != want {
			t.Errorf("trimCell(%q) = %q, want %q", in, got, want)
		}
	}
}
