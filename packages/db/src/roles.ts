/** The role every request runs as (`runAsActor`); each module grants it exactly what its services need. */
export const APPLICATION_ROLE = 'application_user';
/** The role for reporting: each module grants it `SELECT` on its tables. */
export const READ_ONLY_ROLE = 'read_only_user';
