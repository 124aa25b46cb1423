package i18n

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"zh", Zh, true}, {"ZH", Zh, true}, {" zh-CN ", Zh, true}, {"zh_TW.UTF-8", Zh, true},
		{"en", En, true}, {"en_US", En, true},
		{"", En, false}, {"fr", En, false}, {"chinese", En, false}, {"z", En, false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrUnknownLang) {
			t.Errorf("Parse(%q) error %v does not wrap ErrUnknownLang", tc.in, err)
		}
	}
	if Zh.String() != "zh" || En.String() != "en" {
		t.Errorf("String: %s %s", Zh, En)
	}
}

func TestFromEnvFollowsPOSIXPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Lang
	}{
		{"unset", nil, En},
		{"LANG zh_CN.UTF-8", map[string]string{"LANG": "zh_CN.UTF-8"}, Zh},
		{"LANG zh_TW", map[string]string{"LANG": "zh_TW"}, Zh},
		{"LANG C", map[string]string{"LANG": "C"}, En},
		{"LANG POSIX", map[string]string{"LANG": "POSIX"}, En},
		{"LANG C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, En},
		{"LANG fr_FR", map[string]string{"LANG": "fr_FR.UTF-8"}, En},
		{"LC_ALL beats LANG", map[string]string{"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, En},
		{"LC_ALL zh", map[string]string{"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, Zh},
		{"LC_MESSAGES beats LANG", map[string]string{"LC_MESSAGES": "zh_CN.GB18030", "LANG": "en_US"}, Zh},
		{"empty LC_ALL ignored", map[string]string{"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, Zh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("FromEnv(%v) = %v, want %v", tc.env, got, tc.want)
			}
		})
	}
}

func TestFromAcceptLanguageHonoursQValues(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want Lang
	}{
		{"", En},
		{"zh-CN,zh;q=0.9,en;q=0.8", Zh},
		{"zh-TW", Zh},
		{"zh-Hant-HK;q=0.7", Zh},
		{"en-US,en;q=0.9,zh-CN;q=0.8", En},
		{"en;q=0.5, zh;q=0.6", Zh},
		{"fr-FR,fr;q=0.9,zh;q=0.2", Zh},
		{"fr-FR,de", En},
		{"zh;q=0, en", En},
		{"zh;q=0", En},
		{"*", En},
		{"*;q=0.9, zh;q=0.8", En},
		{"zh;q=1.0, en;q=1.0", Zh}, // tie: the first wins
		{"en;q=1.0, zh;q=1.0", En},
		{"zh;q=abc", En}, // a malformed weight counts as 0
		{"ZH-cn", Zh},
		{";;;,,,", En},
		{"c", En},
	} {
		if got := FromAcceptLanguage(tc.h); got != tc.want {
			t.Errorf("FromAcceptLanguage(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}
