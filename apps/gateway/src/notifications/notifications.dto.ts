import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches } from 'class-validator';
import { MAX_BATCH_ITEMS, USER_ID_PATTERN, USER_ID_RULE } from '@app/notifications';
import { PublishEntryRequest } from '../polling/polling.dto';

export class PublishNotificationRequest extends PublishEntryRequest {
  @ApiProperty({ type: String, pattern: USER_ID_PATTERN.source, description: `The recipient: a user id, which ${USER_ID_RULE}.`, example: 'u42' })
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `userId ${USER_ID_RULE}` })
  userId!: string;
}

const batchSizeMessage = `items must be an array of 1 to ${MAX_BATCH_ITEMS} notifications`;

export class PublishBatchRequest {
  /** Each item is checked by NotificationService.publishBatch, which names it (`items[3].type`). */
  @ApiProperty({
    type: () => [PublishNotificationRequest],
    minItems: 1,
    maxItems: MAX_BATCH_ITEMS,
    description: 'One bad item is a 400 naming it (`items[3].type`), and nothing is stored.',
  })
  @IsArray({ message: batchSizeMessage })
  @ArrayMinSize(1, { message: batchSizeMessage })
  @ArrayMaxSize(MAX_BATCH_ITEMS, { message: batchSizeMessage })
  items!: unknown[];
}
