package main

import "context"

// extraCommand runs the commands beyond the import itself.
func extraCommand(ctx context.Context, cmd string, args []string, io stdio) error {
	switch cmd {
	case "task":
		return runTaskCmd(ctx, args, io)
	case "numbers":
		return runNumbersCmd(ctx, args, io)
	case "rollback":
		return runRollbackCmd(ctx, args, io)
	case "history":
		return runHistoryCmd(ctx, args, io)
	case "inbox":
		return runInboxCmd(ctx, args, io)
	}
	return usagef("unknown command %q", cmd)
}
