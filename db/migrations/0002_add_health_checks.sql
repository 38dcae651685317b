CREATE TABLE `health_checks` (
	`id` text PRIMARY KEY NOT NULL,
	`checked_at` integer NOT NULL,
	`pid` integer NOT NULL
);
