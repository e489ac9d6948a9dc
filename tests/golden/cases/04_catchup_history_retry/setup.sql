INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('h1',NULL,'2026-03-02','hist',1,'dunning','1d','C1','["I1"]','email','friendly','email-friendly','2026-03-02T09:00:00-05:00',NULL,NULL,'sent','x'),
('h2',NULL,'2026-03-17','hist',1,'dunning','1d','C1','["I2"]','email','friendly','email-friendly','2026-03-17T09:00:00-04:00',NULL,NULL,'skipped','x'),
('h3',NULL,'2026-03-19','hist',1,'dunning','7d','C1','["I2"]','email','neutral','email-neutral','2026-03-19T09:00:00-04:00',NULL,NULL,'deferred','x'),
('h4',NULL,'2026-03-14','hist',1,'dunning','30d','C1','["I3"]','letter','final','letter-final','2026-03-16T09:00:00-04:00',NULL,NULL,'scheduled','x'),
('h5',NULL,'2026-03-10','other',1,'dunning','7d','C1','["I1"]','email','neutral','email-neutral','2026-03-10T09:00:00-04:00',NULL,NULL,'scheduled','x'),
('h6',NULL,'2026-03-20','hist',1,'dunning','7d','C1','["I2","I1"]','email','neutral','email-neutral','2026-03-20T09:00:00-04:00',NULL,NULL,'scheduled','x'),
('h7',NULL,'2026-03-12','hist',1,'dunning','7d','C1','["I3"]','email','neutral','email-neutral','2026-03-12T09:00:00-04:00',NULL,NULL,'cancelled','x');
