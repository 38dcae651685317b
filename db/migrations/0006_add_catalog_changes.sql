CREATE TABLE `catalog_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`product_id` integer,
	`slug` text,
	`is_sold_out` integer DEFAULT false NOT NULL,
	`sold_out_variants` integer DEFAULT 0 NOT NULL,
	`origin` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
