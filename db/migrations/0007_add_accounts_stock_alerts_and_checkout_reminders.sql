CREATE TABLE `account_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `account_sessions_account_idx` ON `account_sessions` (`account_id`);--> statement-breakpoint
CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`stripe_customer_id` text,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`last_sign_in_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_email_unique` ON `accounts` (`email`);--> statement-breakpoint
CREATE TABLE `checkout_reminders` (
	`id` integer PRIMARY KEY NOT NULL,
	`stripe_checkout_session_id` text NOT NULL,
	`cart_id` text NOT NULL,
	`email` text NOT NULL,
	`recovery_url` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`sent_at` integer,
	`skipped_reason` text,
	`unsubscribe_hash` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `checkout_reminders_stripe_checkout_session_id_unique` ON `checkout_reminders` (`stripe_checkout_session_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `checkout_reminders_cart_id_unique` ON `checkout_reminders` (`cart_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `checkout_reminders_unsubscribe_hash_unique` ON `checkout_reminders` (`unsubscribe_hash`);--> statement-breakpoint
CREATE INDEX `checkout_reminders_sent_idx` ON `checkout_reminders` (`sent_at`);--> statement-breakpoint
CREATE TABLE `mail_opt_outs` (
	`email` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	PRIMARY KEY(`email`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `sign_in_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_in_tokens_email_idx` ON `sign_in_tokens` (`email`);--> statement-breakpoint
CREATE INDEX `sign_in_tokens_expires_idx` ON `sign_in_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `stock_alerts` (
	`id` integer PRIMARY KEY NOT NULL,
	`variant_id` integer NOT NULL,
	`email` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`notified_at` integer,
	`sent_at` integer,
	`unsubscribed_at` integer,
	`unsubscribe_hash` text,
	FOREIGN KEY (`variant_id`) REFERENCES `variants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `stock_alerts_waiting_idx` ON `stock_alerts` (`variant_id`,`notified_at`);--> statement-breakpoint
CREATE INDEX `stock_alerts_email_idx` ON `stock_alerts` (`email`);--> statement-breakpoint
CREATE UNIQUE INDEX `stock_alerts_unsubscribe_uq` ON `stock_alerts` (`unsubscribe_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `stock_alerts_waiting_uq` ON `stock_alerts` (`variant_id`,`email`) WHERE notified_at IS NULL AND unsubscribed_at IS NULL;--> statement-breakpoint
CREATE INDEX `orders_email_idx` ON `orders` (lower("email"),`created_at`);