//go:build !race

package wechatauth_test

const raceEnabled = false
