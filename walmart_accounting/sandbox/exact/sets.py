"""The entity sets the emulator serves (paths, Edm-typed fields, writable fields, methods, topics, navigation)."""

from __future__ import annotations

from walmart_accounting.sandbox.exact.model import EntitySet, _fields, _set

AUDIT = "Division:I Created:T Modified:T Creator:G CreatorFullName"

SETS: dict[str, EntitySet] = {
    s.path: s
    for s in [
        _set("system/Divisions", "System.Division", "Code",
             "Code:I Description HID:I Currency Country Customer:G CustomerName Main:B Status:Y Created:T"),
        _set("crm/Accounts", "Account", "ID",
             "ID:G Code Name SearchCode Status Type IsSales:B IsSupplier:B Blocked:B Email Phone Website "
             "AddressLine1 AddressLine2 City Postcode State Country VATNumber ChamberOfCommerce Remarks Language "
             + AUDIT,
             "ID Code Name SearchCode Status IsSales IsSupplier Blocked Email Phone Website AddressLine1 "
             "AddressLine2 City Postcode State Country VATNumber ChamberOfCommerce Remarks Language",
             "GET POST PUT DELETE", topic="Accounts"),
        _set("financial/GLAccounts", "GLAccount", "ID",
             "ID:G Code Description Type:I TypeDescription BalanceSide BalanceType IsBlocked:B VATCode " + AUDIT,
             "Code Description Type BalanceSide BalanceType IsBlocked VATCode", "GET POST", topic="GLAccounts"),
        _set("financial/Journals", "Journal", "ID",
             "ID:G Code Description Type:I GLAccount:G GLAccountCode GLAccountType:I Currency "
             "AllowVariableCurrency:B " + AUDIT),
        _set("hrm/Costcenters", "HRM.Costcenter", "ID", "ID:G Code Description Active:B " + AUDIT,
             "Code Description Active", "GET POST"),
        _set("hrm/Costunits", "HRM.Costunit", "ID", "ID:G Code Description " + AUDIT, "Code Description",
             "GET POST"),
        _set("vat/VATCodes", "VAT.VATCode", "ID",
             "ID:G Code Description Percentage:D Type IsBlocked:B GLToPay:G GLToPayCode GLToClaim:G GLToClaimCode "
             "VATTransactionType " + AUDIT),
        _set("logistics/Items", "Item", "ID",
             "ID:G Code Description IsSalesItem:B IsStockItem:B IsPurchaseItem:B SalesVatCode GLRevenue:G "
             "GLRevenueCode Unit UnitDescription CostPriceStandard:D StandardSalesPrice:D Stock:D Barcode "
             "StartDate:T EndDate:T Notes " + AUDIT,
             "ID Code Description IsSalesItem IsStockItem IsPurchaseItem SalesVatCode GLRevenue Unit "
             "CostPriceStandard Barcode StartDate EndDate Notes",
             "GET POST PUT DELETE", topic="Items"),
        # A division always has exactly one main warehouse (Main = 1); others can be created (picqer
        # Warehouse.php; the .NET SDK's Warehouse supports create, read, update and delete).
        _set("inventory/Warehouses", "Inventory.Warehouse", "ID",
             "ID:G Code Description Main:Y EMail UseStorageLocations:Y DefaultStorageLocation:G "
             "DefaultStorageLocationCode DefaultStorageLocationDescription " + AUDIT,
             "Code Description EMail UseStorageLocations", "GET POST PUT DELETE"),
        # One row per item and warehouse; logistics/Items.Stock is the sum of its rows' CurrentStock.
        _set("inventory/ItemWarehouses", "Inventory.ItemWarehouse", "ID",
             "ID:G Item:G ItemCode ItemDescription ItemBarcode ItemUnit Warehouse:G WarehouseCode "
             "WarehouseDescription CurrentStock:D ReservedStock:D PlannedStockIn:D PlannedStockOut:D "
             "ProjectedStock:D SafetyStock:D ReorderPoint:D MaximumStock:D " + AUDIT),
        _set("inventory/StockCounts", "Inventory.StockCount", "StockCountID",
             "StockCountID:G StockCountNumber:I StockCountDate:T Description Status:H Source:H Warehouse:G "
             "WarehouseCode WarehouseDescription " + AUDIT,
             "StockCountDate Description Status Source Warehouse StockCountLines", "GET POST DELETE",
             nav={"StockCountLines": ("inventory/StockCountLines", "StockCountID")}),
        _set("inventory/StockCountLines", "Inventory.StockCountLine", "ID",
             "ID:G StockCountID:G LineNumber:I Item:G ItemCode ItemDescription QuantityInStock:D QuantityNew:D "
             "QuantityDifference:D StorageLocation:G ReasonCode:G " + AUDIT,
             "Item QuantityNew QuantityDifference StorageLocation ReasonCode", "GET",
             parent=("inventory/StockCounts", "StockCountID")),
        _set("inventory/ProcessStockCount", "Inventory.ProcessStockCount", "StockCountID",
             "StockCountID:G SuccessMessage ErrorMessage", "StockCountID", "POST"),
        _set("salesentry/SalesEntries", "SalesEntry", "EntryID",
             "EntryID:G EntryNumber:I InvoiceNumber:I Journal JournalDescription Customer:G CustomerName "
             "EntryDate:T DueDate:T Description YourRef OrderNumber:I PaymentReference PaymentCondition Currency "
             "Rate:D AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D ReportingPeriod:H ReportingYear:H "
             "Reversal:B Status:H StatusDescription Type:I TypeDescription " + AUDIT,
             "EntryNumber InvoiceNumber Journal Customer EntryDate DueDate Description YourRef OrderNumber "
             "PaymentReference PaymentCondition Currency Rate AmountFC AmountDC VATAmountFC VATAmountDC "
             "ReportingPeriod ReportingYear Reversal Type SalesEntryLines",
             "GET POST PUT DELETE", topic="SalesEntries",
             nav={"SalesEntryLines": ("salesentry/SalesEntryLines", "EntryID")}),
        _set("salesentry/SalesEntryLines", "SalesEntryLine", "ID",
             "ID:G EntryID:G LineNumber:I AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D VATBaseAmountFC:D "
             "VATBaseAmountDC:D VATCode VATCodeDescription VATPercentage:D GLAccount:G GLAccountCode "
             "GLAccountDescription CostCenter CostCenterDescription CostUnit CostUnitDescription Description "
             "Quantity:D From:T To:T Type:I Notes " + AUDIT,
             "EntryID AmountFC AmountDC VATAmountFC VATAmountDC VATCode VATPercentage GLAccount CostCenter "
             "CostUnit Description Quantity From To Type Notes",
             "GET POST DELETE", topic="SalesEntries", parent=("salesentry/SalesEntries", "EntryID")),
        _set("purchaseentry/PurchaseEntries", "PurchaseEntry", "EntryID",
             "EntryID:G EntryNumber:I InvoiceNumber:I Journal JournalDescription Supplier:G SupplierName "
             "EntryDate:T DueDate:T Description YourRef PaymentReference PaymentCondition Currency Rate:D "
             "AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D ReportingPeriod:H ReportingYear:H Status:H "
             "StatusDescription Type:I TypeDescription " + AUDIT,
             "EntryNumber InvoiceNumber Journal Supplier EntryDate DueDate Description YourRef PaymentReference "
             "PaymentCondition Currency Rate AmountFC AmountDC VATAmountFC VATAmountDC ReportingPeriod "
             "ReportingYear Type PurchaseEntryLines",
             "GET POST PUT DELETE", topic="PurchaseEntries",
             nav={"PurchaseEntryLines": ("purchaseentry/PurchaseEntryLines", "EntryID")}),
        _set("purchaseentry/PurchaseEntryLines", "PurchaseEntryLine", "ID",
             "ID:G EntryID:G LineNumber:I AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D VATBaseAmountFC:D "
             "VATBaseAmountDC:D VATCode VATCodeDescription VATPercentage:D GLAccount:G GLAccountCode "
             "GLAccountDescription CostCenter CostCenterDescription CostUnit CostUnitDescription Description "
             "Quantity:D From:T To:T Type:I Notes " + AUDIT,
             "EntryID AmountFC AmountDC VATAmountFC VATAmountDC VATCode VATPercentage GLAccount CostCenter "
             "CostUnit Description Quantity From To Type Notes",
             "GET POST DELETE", topic="PurchaseEntries", parent=("purchaseentry/PurchaseEntries", "EntryID")),
        _set("salesinvoice/SalesInvoices", "SalesInvoice", "InvoiceID",
             "InvoiceID:G InvoiceNumber:I OrderNumber:I Type:I TypeDescription Journal JournalDescription "
             "OrderedBy:G OrderedByName InvoiceTo:G DeliverTo:G InvoiceDate:T OrderDate:T DueDate:T YourRef "
             "Description Remarks Currency AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D Status:H "
             "StatusDescription PaymentCondition PaymentReference Warehouse:G " + AUDIT,
             "OrderNumber Type Journal OrderedBy InvoiceTo DeliverTo InvoiceDate OrderDate DueDate YourRef "
             "Description Remarks Currency Status PaymentCondition PaymentReference Warehouse SalesInvoiceLines",
             "GET POST PUT DELETE", topic="SalesInvoices",
             nav={"SalesInvoiceLines": ("salesinvoice/SalesInvoiceLines", "InvoiceID")}),
        _set("salesinvoice/SalesInvoiceLines", "SalesInvoiceLine", "ID",
             "ID:G InvoiceID:G LineNumber:I Item:G ItemCode ItemDescription Description Quantity:D UnitPrice:D "
             "NetPrice:D AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D VATCode VATCodeDescription "
             "VATPercentage:D GLAccount:G GLAccountCode CostCenter CostUnit DeliveryDate:T UnitCode Notes "
             + AUDIT,
             "InvoiceID Item Description Quantity UnitPrice NetPrice VATCode GLAccount CostCenter CostUnit "
             "DeliveryDate UnitCode Notes",
             "GET", parent=("salesinvoice/SalesInvoices", "InvoiceID")),
        _set("salesinvoice/PrintedSalesInvoices", "PrintedSalesInvoice", "InvoiceID",
             "InvoiceID:G InvoiceNumber:I SendEmailToCustomer:B SendOutputBasedOnAccount:B Division:I",
             "InvoiceID SendEmailToCustomer SendOutputBasedOnAccount", "POST"),
        _set("financialtransaction/BankEntries", "FinancialTransaction.BankEntry", "EntryID",
             "EntryID:G EntryNumber:I JournalCode JournalDescription Currency OpeningBalanceFC:D ClosingBalanceFC:D "
             "FinancialPeriod:H FinancialYear:H Status:H StatusDescription BankStatementDocument:G " + AUDIT,
             "EntryNumber JournalCode Currency OpeningBalanceFC ClosingBalanceFC FinancialPeriod FinancialYear "
             "BankStatementDocument BankEntryLines",
             "GET POST DELETE", topic="BankEntries",
             nav={"BankEntryLines": ("financialtransaction/BankEntryLines", "EntryID")}),
        _set("financialtransaction/BankEntryLines", "FinancialTransaction.BankEntryLine", "ID",
             "ID:G EntryID:G EntryNumber:I LineNumber:I Account:G AccountCode AccountName AmountFC:D AmountDC:D "
             "AmountVATFC:D Date:T Description GLAccount:G GLAccountCode GLAccountDescription OurRef:I CostCenter "
             "CostUnit VATCode VATPercentage:D Quantity:D ExchangeRate:D Document:G Notes " + AUDIT,
             "EntryID Account AmountFC AmountDC AmountVATFC Date Description GLAccount OurRef CostCenter CostUnit VATCode "
             "VATPercentage Quantity ExchangeRate Document Notes",
             "GET POST", topic="BankEntries", parent=("financialtransaction/BankEntries", "EntryID")),
        # Read-only and computed from the entries (sandbox/exact/transactions.py); the field names are Exact's.
        _set("financialtransaction/TransactionLines", "FinancialTransaction.TransactionLine", "ID",
             "ID:G Account:G AccountCode AccountName AmountDC:D AmountFC:D AmountVATFC:D Currency Date:T Description "
             "Division:I EntryID:G EntryNumber:I FinancialPeriod:H FinancialYear:H GLAccount:G GLAccountCode "
             "GLAccountDescription InvoiceNumber:I JournalCode JournalDescription LineNumber:I Notes Status:H Type:I "
             "VATCode YourRef Created:T Modified:T"),
        # Sales orders and goods deliveries ([picqer] SalesOrder.php, SalesOrderLine.php, GoodsDelivery.php,
        # GoodsDeliveryLine.php; the .NET SDK's models for which fields are read-only).
        _set("sales/ShippingMethods", "Sales.ShippingMethod", "ID",
             "ID:G Code Description Active:B Notes ShippingRatesURL TrackingURL " + AUDIT),
        _set("salesorder/SalesOrders", "SalesOrder", "OrderID",
             "OrderID:G OrderNumber:I OrderDate:T DeliveryDate:T OrderedBy:G OrderedByName "
             "OrderedByContactPerson:G InvoiceTo:G InvoiceToName InvoiceToContactPerson:G DeliverTo:G DeliverToName "
             "DeliverToContactPerson:G DeliveryAddress:G YourRef Description Remarks Currency AmountFC:D AmountDC:D "
             "AmountFCExclVat:D AmountDiscount:D AmountDiscountExclVat:D Discount:D Status:H StatusDescription "
             "DeliveryStatus:H DeliveryStatusDescription InvoiceStatus:H InvoiceStatusDescription ApprovalStatus:H "
             "ApprovalStatusDescription PaymentCondition PaymentConditionDescription PaymentReference "
             "ShippingMethod:G ShippingMethodDescription WarehouseID:G WarehouseCode WarehouseDescription "
             "Salesperson:G SalespersonFullName " + AUDIT,
             "OrderNumber OrderDate DeliveryDate OrderedBy OrderedByContactPerson InvoiceTo InvoiceToContactPerson "
             "DeliverTo DeliverToContactPerson DeliveryAddress YourRef Description Remarks Currency Discount "
             "PaymentCondition PaymentReference ShippingMethod WarehouseID Salesperson SalesOrderLines",
             "GET POST PUT DELETE", topic="SalesOrders",
             nav={"SalesOrderLines": ("salesorder/SalesOrderLines", "OrderID")}),
        _set("salesorder/SalesOrderLines", "SalesOrderLine", "ID",
             "ID:G OrderID:G OrderNumber:I LineNumber:I Item:G ItemCode ItemDescription Description Quantity:D "
             "QuantityDelivered:D QuantityInvoiced:D UnitPrice:D NetPrice:D Discount:D AmountFC:D AmountDC:D "
             "VATAmount:D VATCode VATCodeDescription VATPercentage:D CostPriceFC:D CostCenter CostCenterDescription "
             "CostUnit CostUnitDescription DeliveryDate:T UnitCode UnitDescription Notes UseDropShipment:Y "
             + AUDIT,
             "OrderID Item Description Quantity UnitPrice NetPrice Discount VATCode CostCenter CostUnit "
             "DeliveryDate UnitCode Notes",
             "GET POST DELETE", parent=("salesorder/SalesOrders", "OrderID")),
        _set("salesorder/GoodsDeliveries", "SalesOrder.GoodsDelivery", "EntryID",
             "EntryID:G EntryNumber:I DeliveryNumber:I DeliveryDate:T DeliveryAccount:G DeliveryAccountCode "
             "DeliveryAccountName DeliveryAddress:G DeliveryContact:G DeliveryContactPersonFullName Description "
             "Remarks Document:G DocumentSubject ShippingMethod:G ShippingMethodCode ShippingMethodDescription "
             "TrackingNumber Warehouse:G WarehouseCode WarehouseDescription " + AUDIT,
             "DeliveryDate Description Remarks Document ShippingMethod TrackingNumber GoodsDeliveryLines",
             "GET POST PUT", topic="GoodsDeliveries",
             nav={"GoodsDeliveryLines": ("salesorder/GoodsDeliveryLines", "EntryID")}),
        # CHOICE: lines are only created inside their goods delivery; a POST of a line on its own is refused
        # (a client that tried it got 403, exactonline/exactonline-api-dotnet-client#47).
        _set("salesorder/GoodsDeliveryLines", "SalesOrder.GoodsDeliveryLine", "ID",
             "ID:G EntryID:G LineNumber:I DeliveryDate:T Item:G ItemCode ItemDescription Description Notes "
             "QuantityOrdered:D QuantityDelivered:D SalesOrderLineID:G SalesOrderLineNumber:I SalesOrderNumber:I "
             "StorageLocation:G StorageLocationCode StorageLocationDescription TrackingNumber Unitcode " + AUDIT,
             "SalesOrderLineID QuantityDelivered Description Notes StorageLocation TrackingNumber",
             "GET", parent=("salesorder/GoodsDeliveries", "EntryID")),
        # IsInstant applies to topic GoodsDeliveries only (FACTS §6).
        _set("webhooks/WebhookSubscriptions", "Webhooks.WebhookSubscription", "ID",
             "ID:G CallbackURL Topic ClientID Description IsInstant:B UserID:G Division:I Created:T Creator:G "
             "CreatorFullName",
             "CallbackURL Topic Description IsInstant", "GET POST DELETE"),
    ]
}

ME_FIELDS = _fields(
    "UserID:G UserName FullName FirstName LastName Email LanguageCode CurrentDivision:I DivisionCustomer:G "
    "DivisionCustomerCode DivisionCustomerName Legislation:I ServerTime:T ServerUtcOffset:D"
)
