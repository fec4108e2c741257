-- Runs once, when the MySQL container initialises its data directory.
-- utf8mb4_unicode_ci (not MySQL 8's utf8mb4_0900_ai_ci) keeps dumps portable to MariaDB.
CREATE DATABASE IF NOT EXISTS speedcam CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS speedcam_vehicles CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS speedcam_detections CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS speedcam_notifications CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
-- MYSQL_USER is created by the image; give it the four schemas.
GRANT ALL PRIVILEGES ON `speedcam`.* TO 'speedcam'@'%';
GRANT ALL PRIVILEGES ON `speedcam\_vehicles`.* TO 'speedcam'@'%';
GRANT ALL PRIVILEGES ON `speedcam\_detections`.* TO 'speedcam'@'%';
GRANT ALL PRIVILEGES ON `speedcam\_notifications`.* TO 'speedcam'@'%';
FLUSH PRIVILEGES;
