package main

import (
	"errors"
	"syscall"
)

// errorSharingViolation is Windows' ERROR_SHARING_VIOLATION, which the
// syscall package does not name.
const errorSharingViolation syscall.Errno = 32

// renameBusy reports whether a rename failed because another program has
// the file open: Windows then refuses it as access denied or a sharing
// violation until that program closes the file.
func renameBusy(err error) bool {
	return errors.Is(err, syscall.ERROR_ACCESS_DENIED) || errors.Is(err, errorSharingViolation)
}
