/**
 * The role planner's requests run as (`plannerModule.requestRole`): granted planner's tables only, so a planner request
 * cannot read another module's (`Migration20261206100000PlannerRequestRole`).
 */
export const PLANNER_REQUEST_ROLE = 'huddle_planner_request';
