CREATE TABLE `leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`acquired_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`hits` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rate_limits_expires_idx` ON `rate_limits` (`expires_at`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `heartbeat_at` integer;--> statement-breakpoint
ALTER TABLE `orders` ADD `dispute_status` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `stock_taken_at` integer;--> statement-breakpoint
ALTER TABLE `reconcile_runs` ADD `stripe_calls` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_runs` ADD `is_capped` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_runs` ADD `is_sessions_walked` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `stripe_events` ADD `outcome` text;