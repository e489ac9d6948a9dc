INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('h1',NULL,'2026-03-02','pp',1,'dunning','1d','C1','["I1"]','email','friendly','email-friendly','2026-03-02T09:00:00-05:00',NULL,NULL,'sent','x');
