/*
 * state.h: the vault's place (the state directory's backup/, or the
 * backup-dir given), and whether a run may put things there.
 */
#ifndef CSTOW_STATE_H
#define CSTOW_STATE_H

#include "bootstrap.h"

void	 vault_root_resolve(struct vault_root *, const char *, const char *,
	    const struct strlist *);
int	 vault_root_make(struct vault_root *);
void	 vault_root_unmake(struct vault_root *);
void	 vault_root_free(struct vault_root *);
char	*vault_latest(const char *);

#endif /* CSTOW_STATE_H */
