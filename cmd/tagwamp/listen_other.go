//go:build !linux

package main

import "syscall"

func reusePortControl(_, _ string, _ syscall.RawConn) error { return errLinuxOnly }

func childAttr() *syscall.SysProcAttr { return nil }
